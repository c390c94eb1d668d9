"""Planted defects inside ``ff_managers._tools`` (collected by ``tests/planted_defects``).

Each replaces one function of the private package for the length of a suite run. All three are
surviving mutants of the first ``_tools`` mutation run that a new test killed
(``test_tools_exact_units.py``, ``test_tools_exact_runs.py``), kept as plausible bugs: the
component suite's ``tools_contracts`` must turn red on them (its unknown-run and kept-outputs
steps).
"""

from __future__ import annotations

import os

import ff_managers._tools.sandbox as sandbox_module
from ff_class_configs.ff_tool_dtos import FFToolRunResultDTO
from ff_managers._tools.runs import FFToolRunPlan, FFToolRuns
from ff_managers._tools.sandbox_files import _MAX_HEADER, _MAX_NAME, _safe_relative
from ff_utils.ff_errors import FFNotFoundError, FFValidationError
from tests._planted import PlantedDefect

__all__ = ["DEFECTS"]


def read_packed_stops_at_an_empty_file(fd: int, cap: int) -> list[tuple[str, bytes]]:
    """The copy-back reader takes a frame of size 0 for the end of the stream (``size <= 0``): an
    empty output file, and every file framed after it, is lost."""
    files: list[tuple[str, bytes]] = []
    offset = total = 0
    end = os.fstat(fd).st_size
    while offset < end:
        head = os.pread(fd, _MAX_HEADER, offset)
        newline = head.find(b"\n")
        if newline < 0:
            break
        try:
            name_length, size = (int(part) for part in head[:newline].split(b" "))
        except ValueError:
            break
        offset += newline + 1
        if not 0 < name_length <= _MAX_NAME or size <= 0 or total + size > cap or offset + name_length + size > end:
            break
        raw_name = os.pread(fd, name_length, offset)
        offset += name_length
        data = os.pread(fd, size, offset)
        offset += size
        total += size
        try:
            name = _safe_relative(raw_name.decode("utf-8"))
        except UnicodeDecodeError:
            name = None
        if name is not None:
            files.append((name, data))
    return files


def write_back_stops_at_a_refused_name(self: FFToolRuns, plan: FFToolRunPlan, files: list[tuple[str, bytes]]) -> None:
    """Keeping a run's outputs stops at the first name the store refuses (``break`` for
    ``continue``): every output after it is lost."""
    for name, data in files:
        try:
            target = self.store.path("users", plan.user_id, "tools", "work", plan.run_id, *name.split("/"))
            self.store.ensure_dir(target.parent)
            self.scratch.write_bytes(target, data)
        except FFValidationError:
            break


def run_not_found_without_kind(self: FFToolRuns, user_id: str, run_id: str) -> FFToolRunResultDTO:
    """get_run's not-found error names no kind (``kind=None``), so a caller cannot tell a missing
    run from a missing tool."""
    path = self._runs_path(user_id)
    for record in self.store.read_jsonl(path):
        if isinstance(record, dict) and record.get("run_id") == run_id:
            return self.store.load(FFToolRunResultDTO, record, path)
    raise FFNotFoundError(f"no run {run_id} for user {user_id}", kind=None, key=run_id)


_TEST = "tools_contracts"
DEFECTS: tuple[PlantedDefect, ...] = (
    PlantedDefect(name="empty_output_ends_copy_back", what=" ".join((read_packed_stops_at_an_empty_file.__doc__ or "").split()),
                  suite="component", test=_TEST,
                  origin="mutant ff_managers._tools.sandbox_files.x_ff_read_packed__mutmut_37",
                  patches=((sandbox_module, "ff_read_packed", read_packed_stops_at_an_empty_file),)),
    PlantedDefect(name="refused_output_drops_the_rest", what=" ".join((write_back_stops_at_a_refused_name.__doc__ or "").split()),
                  suite="component", test=_TEST,
                  origin="mutant ff_managers._tools.runs.xǁFFToolRunsǁ_write_back__mutmut_26",
                  patches=((FFToolRuns, "_write_back", write_back_stops_at_a_refused_name),)),
    PlantedDefect(name="run_not_found_without_kind", what=" ".join((run_not_found_without_kind.__doc__ or "").split()),
                  suite="component", test=_TEST,
                  origin="mutant ff_managers._tools.runs.xǁFFToolRunsǁfind__mutmut_16",
                  patches=((FFToolRuns, "find", run_not_found_without_kind),)),
)
