"""The Streamlit app (`botkit app`)."""

from pathlib import Path


def main_script() -> Path:
    return Path(__file__).with_name("main.py")
