"""A minimal botkit plugin: the `shout` task says the user's text back in capitals."""

from langchain_core.runnables import RunnableLambda

from botkit import hookimpl
from botkit.tasks import Task, chat_model, chat_prompt


class Shout(Task):
    name = "shout"
    description = "Say the text back, louder."

    def build(self, bot, options):
        prompt = chat_prompt("Repeat the user's message word for word.")
        return prompt | chat_model(bot, max_new_tokens=48) | RunnableLambda(str.upper)


@hookimpl
def register_tasks(register):
    register(Shout())
