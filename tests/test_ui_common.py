"""The guard every UI handler wears: an exception becomes one clear sentence, never a traceback or a toast flood."""
import gradio as gr
import pytest

from playground.ui_common import guarded, skips


def test_an_exception_becomes_one_sentence(capsys):
    @guarded(lambda msg: ("unchanged", msg))
    def handler(x):
        return 1 / x

    assert handler(2) == 0.5
    kept, message = handler(0)
    assert kept == "unchanged"
    assert message.startswith("⚠ Something went wrong (ZeroDivisionError") and "keeps working" in message
    assert "Traceback" not in message
    assert "ZeroDivisionError" in capsys.readouterr().err       # the details go to the server's log


def test_a_failing_tick_changes_nothing_and_raises_no_toast():
    outputs = 3

    @guarded(lambda msg: skips(outputs))
    def on_tick():
        raise RuntimeError("snapshot failed")

    result = on_tick()        # gr.Error would show a toast each second; a skip shows nothing
    assert len(result) == outputs
    assert all(isinstance(r, dict) and r.get("__type__") == "update" and len(r) == 1 for r in result), result


def test_deliberate_errors_pass_through():
    @guarded(lambda msg: msg)
    def handler():
        raise gr.Error("This action needs a browser session; reload the page.")

    with pytest.raises(gr.Error):
        handler()
