import pytest

from botkit.errors import BotkitError
from botkit.jsonl import read_jsonl


def test_reads_objects_and_skips_blank_lines(tmp_path):
    f = tmp_path / "q.jsonl"
    f.write_text('{"question": "a", "expected": ["x"]}\n\n{"question": "b", "expected": ["y"]}\n')
    assert [r["question"] for r in read_jsonl(f, ("question", "expected"))] == ["a", "b"]


def test_every_bad_line_is_named(tmp_path):
    f = tmp_path / "q.jsonl"
    f.write_text('{"question": "a"}\nnot json\n[1, 2]\n{"expected": []}\n')
    with pytest.raises(BotkitError,
                       match=r"malformed JSON on line\(s\) 2, 3, 4 \(each line must be a JSON object with question"):
        read_jsonl(f, ("question",))
    with pytest.raises(BotkitError, match="no such file"):
        read_jsonl(tmp_path / "missing.jsonl")
