"""The built-in tools: their logic in-process, and the programs themselves (stdin JSON -> stdout JSON)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ff_managers._tools.builtin_defs import TOOLS_PACKAGE_PARENT
from ff_managers.tools_builtin import BUILTIN_TOOL_NAMES
from ff_managers.tools_builtin._protocol import ToolError, ToolSandboxViolation, workspace_path
from ff_managers.tools_builtin.calculator import evaluate
from ff_managers.tools_builtin.disk_usage import measure
from ff_managers.tools_builtin.extract_text import markdown_to_text
from ff_managers.tools_builtin.grammar_check import apply_corrections, check
from ff_managers.tools_builtin.summarize import summarize
from ff_managers.tools_builtin.translate import translate
from ff_managers.tools_builtin.word_count import count


def run_tool(name: str, args: Any, cwd: Path, *, module_prefix: str = "tools_builtin") -> tuple[int, Any]:
    """Run a built-in as its own program, the way the manager does (minus the supervisor)."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(TOOLS_PACKAGE_PARENT if module_prefix == "tools_builtin" else TOOLS_PACKAGE_PARENT.parent)}
    done = subprocess.run(
        [sys.executable, "-P", "-B", "-m", f"{module_prefix}.{name}"],
        input=json.dumps(args).encode(), capture_output=True, cwd=cwd, env=env, timeout=30, check=False,
    )  # fmt: skip
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else None


def make_pdf(*lines: str) -> bytes:
    """A minimal one-page PDF with ``lines`` of Helvetica text (xref offsets computed exactly)."""
    content = " ".join(f"BT /F1 12 Tf 72 {720 - 20 * i} Td ({line}) Tj ET" for i, line in enumerate(lines)).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


# --------------------------------------------------------------------------- the programs


def test_every_builtin_runs_as_python_dash_m_ff_managers_tools_builtin(tmp_path: Path) -> None:
    code, output = run_tool("word_count", {"text": "one two"}, tmp_path, module_prefix="ff_managers.tools_builtin")
    assert code == 0 and output["words"] == 2
    for name in BUILTIN_TOOL_NAMES:
        assert (TOOLS_PACKAGE_PARENT / "tools_builtin" / f"{name}.py").is_file()


def test_protocol_reports_bad_input_with_exit_65(tmp_path: Path) -> None:
    code, output = run_tool("calculator", {"expression": "__import__('os').system('id')"}, tmp_path)
    assert code == 65 and output["error"]["type"] == "invalid_input" and output["error"]["retryable"] is False
    code, output = run_tool("word_count", [1, 2], tmp_path)
    assert code == 65 and "object" in output["error"]["message"]


@pytest.mark.parametrize("path", ["../secret.txt", "/etc/passwd", "leak.txt"])
def test_child_refuses_paths_outside_its_directory_itself(tmp_path: Path, path: str) -> None:
    (tmp_path / "secret.txt").write_text("secret")
    work = tmp_path / "work"
    work.mkdir()
    (work / "leak.txt").symlink_to(tmp_path / "secret.txt")
    code, output = run_tool("extract_text", {"path": path}, work)
    assert code == 77 and output["error"]["type"] == "sandbox_violation"


def test_extract_text_reads_a_pdf(tmp_path: Path) -> None:
    (tmp_path / "doc.pdf").write_bytes(make_pdf("Entropy always increases.", "Heat flows from hot to cold."))
    code, output = run_tool("extract_text", {"path": "doc.pdf"}, tmp_path)
    assert code == 0 and output["format"] == "pdf" and output["pages"] == 1
    assert "Entropy always increases." in output["text"] and "Heat flows from hot to cold." in output["text"]


def test_extract_text_refuses_a_fake_pdf_and_unknown_types(tmp_path: Path) -> None:
    (tmp_path / "fake.pdf").write_bytes(b"not a pdf")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    assert run_tool("extract_text", {"path": "fake.pdf"}, tmp_path)[0] == 65
    assert run_tool("extract_text", {"path": "image.png"}, tmp_path)[0] == 65


def test_create_task_and_restart_service_write_their_record(tmp_path: Path) -> None:
    code, task = run_tool("create_task", {"title": " Call Bob ", "depends_on": ["task-1"]}, tmp_path)
    assert code == 0 and task["title"] == "Call Bob" and task["depends_on"] == ["task-1"]
    assert json.loads((tmp_path / "task.json").read_text()) == task
    code, output = run_tool("restart_service", {"service": "database", "reason": "slow"}, tmp_path)
    assert code == 65 and "unknown service" in output["error"]["message"]


# --------------------------------------------------------------------------- the logic


def test_workspace_path_refuses_escapes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ok.txt").write_text("x")
    assert workspace_path("ok.txt") == (tmp_path / "ok.txt").resolve()
    for bad in ["../x", "/etc/passwd", "", "a\x00b", 5]:
        with pytest.raises(ToolSandboxViolation):
            workspace_path(bad)
    os.symlink("/etc", tmp_path / "etc")
    with pytest.raises(ToolSandboxViolation):
        workspace_path("etc/passwd")
    with pytest.raises(ToolError):
        workspace_path("missing.txt")


def test_word_count_counts() -> None:
    result = count("The cat sat.\nThe cat ran!\n\nDogs bark.")
    assert (result["words"], result["lines"], result["sentences"], result["paragraphs"]) == (8, 4, 3, 2)
    assert result["top_words"][0] == ["cat", 2] and result["unique_words"] == 6


@pytest.mark.parametrize(
    "expression, expected",
    [("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("7 // 2", 3), ("7 % 4", 3), ("2 ** 10", 1024), ("-3 + +2", -1), ("1 / 4", 0.25), ("2 ** -1", 0.5)],
)
def test_calculator_evaluates_arithmetic(expression: str, expected: float) -> None:
    assert evaluate(expression)["result"] == expected


@pytest.mark.parametrize(
    "expression",
    ["__import__('os')", "a + 1", "[1, 2]", "1 if 1 else 2", "9 ** 9 ** 9", "10 ** 5000", "1 / 0", "True + 1", "(1).real", "'a' * 3", "2 ** 0.5 ** 99999", ""],
)
def test_calculator_refuses_everything_else(expression: str) -> None:
    with pytest.raises(ToolError):
        evaluate(expression)


def test_calculator_gives_huge_exact_results_as_text() -> None:
    result = evaluate("2 ** 4000")
    assert result["result"] is None and result["result_text"] == str(2**4000)
    assert evaluate("2 ** 64")["result"] == float(2**64)


def test_summarize_keeps_top_sentences_in_original_order() -> None:
    text = (
        "Solar panels convert sunlight into electricity. My neighbour owns a red bicycle. "
        "Solar electricity lowers bills when sunlight is strong. The weather was mild on Tuesday. "
        "Panels need sunlight to make electricity."
    )
    result = summarize(text, max_sentences=2)
    # solar/panels/sunlight/electricity recur; sentence 0 scores 3.667/sqrt(5), sentence 2 3.667/sqrt(6)
    assert [s["index"] for s in result["sentences"]] == [0, 2]
    assert result["sentences"][0]["score"] == pytest.approx(11 / 3 / 5**0.5, abs=1e-5)
    assert "bicycle" not in result["summary"] and result["sentence_count"] == 5
    assert summarize(text, max_sentences=2) == result  # deterministic


def test_translate_preserves_case_and_lists_unknown_words() -> None:
    result = translate("Hello friend, the TRAIN station is there. Zorblax!", "en", "de")
    assert result["translation"] == "Hallo freund, der ZUG bahnhof ist dort. Zorblax!"
    assert result["unknown_words"] == ["zorblax"] and result["translated_words"] == 7
    assert translate("Hola amigo", "es", "en")["translation"] == "Hello friend"
    with pytest.raises(ToolError):
        translate("x", "en", "en")


def test_grammar_check_finds_certain_errors_with_offsets() -> None:
    text = "i saw a elephant and an university.  Their is alot of the the work. we could of won."
    corrections = check(text)
    rules = {(c["rule"], c["original"], c["replacement"]) for c in corrections}
    assert ("capitalization", "i", "I") in rules
    assert ("a_an", "a", "an") in rules and ("a_an", "an", "a") in rules
    assert ("double_space", "  ", " ") in rules
    assert ("confusion", "Their is", "There is") in rules and ("confusion", "alot", "a lot") in rules
    assert ("confusion", "could of", "could have") in rules and ("capitalization", "w", "W") in rules
    assert ("repeated_word", " the", "") in rules
    for c in corrections:
        assert text[c["offset"] : c["offset"] + c["length"]] == c["original"]
    assert apply_corrections(text, corrections) == (
        "I saw an elephant and a university. There is a lot of the work. We could have won."
    )


def test_grammar_check_stays_quiet_on_correct_text() -> None:
    assert check("I had had enough. An hour later, a unicorn and an apple appeared. There is more than one.") == []


def test_markdown_to_text_strips_markup() -> None:
    assert markdown_to_text("## Title\n> quoted *word*\n1. [link](http://x) `code`") == "Title\nquoted word\nlink code"


def test_disk_usage_measures_every_run_dir(tmp_path: Path) -> None:
    for run, size in (("run-a", 10), ("run-b", 30)):
        (tmp_path / run).mkdir()
        (tmp_path / run / "f").write_bytes(b"x" * size)
    (tmp_path / "run-b" / "link").symlink_to("/etc/passwd")  # counted by its own size, not followed
    result = measure(tmp_path)
    assert result["runs"] == 2 and result["files"] == 3 and result["largest_run"] == "run-b"
    assert result["bytes"] == 40 + len("/etc/passwd")
