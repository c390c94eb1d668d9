"""setuptools' list of packages: the four top-level packages, plus the report templates.

Everything else about the distribution is in pyproject.toml. This file exists for one reason:
pyproject's ``find`` cannot add a package whose folder lives elsewhere, and the report templates stay
in the repository's top-level ``templates/`` folder (a fixed layout) while an installed copy needs
them as package data. ``pyproject.toml`` maps ``testing.reporting.templates`` to ``templates/``; this
adds that package to what discovery finds, so a new package under the four roots is picked up
without editing anything here.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        *find_namespace_packages(
            include=["ff_class_configs*", "ff_utils*", "ff_managers*", "testing*"], exclude=["*__pycache__*"]
        ),
        "testing.reporting.templates",
    ],
)
