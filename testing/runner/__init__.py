"""The test runner of the validation platform: specs, a checker for evidence, the runner, log capture."""

from testing.runner._checker import FFCheckFailed, FFChecker
from testing.runner._log_capture import FFOutsideTestsFilter, FFRunLogFormatter, FFTestLogHandler, attempt_log
from testing.runner._runner import FFRunnerError, FFTestRunner
from testing.runner._spec import FFSuiteRegistry, FFTestSpec

__all__ = [
    "FFCheckFailed",
    "FFChecker",
    "FFOutsideTestsFilter",
    "FFRunLogFormatter",
    "FFRunnerError",
    "FFSuiteRegistry",
    "FFTestLogHandler",
    "FFTestRunner",
    "FFTestSpec",
    "attempt_log",
]
