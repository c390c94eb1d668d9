"""The test runner of the validation platform: specs, a checker for evidence, and the runner."""

from testing.runner._checker import FFCheckFailed, FFChecker
from testing.runner._runner import FFRunnerError, FFTestRunner
from testing.runner._spec import FFSuiteRegistry, FFTestSpec

__all__ = ["FFCheckFailed", "FFChecker", "FFRunnerError", "FFSuiteRegistry", "FFTestRunner", "FFTestSpec"]
