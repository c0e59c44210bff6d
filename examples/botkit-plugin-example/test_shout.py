"""Runs with `pytest` once botkit and this package are installed: `task_runner` comes from botkit."""


def test_shout_upper_cases_the_model_output(task_runner):
    task_runner.engine.responses = ["hello there"]
    assert task_runner("shout", "say hello") == "HELLO THERE"
    assert task_runner.engine.calls[0][-1] == {"role": "user", "content": "say hello"}
