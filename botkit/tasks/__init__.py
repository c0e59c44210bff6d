"""What a plugin author builds tasks from: `Task` and its `Options`, the active model as a Runnable,
best-of-N sampling with copy checks and scorers, and parsed outputs with retries.

    from botkit.tasks import Task, chat_model, chat_prompt
"""

from botkit.tasks.base import Task, TaskOptions
from botkit.tasks.best_of_n import Candidate, Checked, best_of_n, best_of_n_step
from botkit.tasks.copy import first_line, repeats_itself
from botkit.tasks.copy_checks import CopyChecks
from botkit.tasks.model import ModelStep, chat_model, chat_prompt, to_chat
from botkit.tasks.scoring import Scorer, brand_similarity, copy_scorer, penalized
from botkit.tasks.structured import parsed_with_retries

__all__ = ["Candidate", "Checked", "CopyChecks", "ModelStep", "Scorer", "Task", "TaskOptions", "best_of_n",
           "best_of_n_step", "brand_similarity", "chat_model", "chat_prompt", "copy_scorer", "first_line",
           "parsed_with_retries", "penalized", "repeats_itself", "to_chat"]
