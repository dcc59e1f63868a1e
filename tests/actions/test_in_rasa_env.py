"""Runs tests/actions in the Rasa environment, so `make test` (app environment) covers the actions too.

The actions import rasa_sdk, which lives only in .venv-rasa (DESIGN.md §2); under the app environment
tests/actions/conftest.py collects nothing but this runner. Inside .venv-rasa this module skips itself.
"""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"


def _in_rasa_env() -> bool:
    try:
        import rasa_sdk  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(_in_rasa_env(), reason="already running in the Rasa environment")
def test_action_suite_passes_in_the_rasa_environment():
    if (
        not RASA_PYTHON.exists()
        or subprocess.run([RASA_PYTHON, "-c", "import pytest"], capture_output=True).returncode
    ):
        message = f"{RASA_PYTHON} with pytest is needed (scripts/rasa_env.sh install)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        [RASA_PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/actions"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
