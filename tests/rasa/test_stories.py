"""The conversation tests (tests/rasa/test_stories.yml) against the trained model: every story must pass.

`rasa test core` runs NLU on what the applicant types and checks each predicted intent, entity and
action; custom actions are not executed (tests/actions and tests/rasa/test_e2e.py cover what they say).
"""

import os
import subprocess
from pathlib import Path

import pytest

from tests.rasa.conftest import MODEL, RASA_ENV, ROOT

STORIES = ROOT / "tests" / "rasa" / "test_stories.yml"


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_every_conversation_story_passes(tmp_path: Path) -> None:
    if not (RASA_ENV / "bin" / "rasa").exists() or not MODEL.exists():
        message = "needs .venv-rasa and models/current.tar.gz (make install)"
        if os.environ.get("CI"):
            pytest.fail(message + " — required in CI")
        pytest.skip(message)
    # Train first if the data changed since the model was built (a no-op otherwise).
    subprocess.run([ROOT / "scripts" / "rasa_env.sh", "train"], cwd=ROOT, check=True, capture_output=True)
    result = subprocess.run(
        [
            RASA_ENV / "bin" / "rasa",
            "test",
            "core",
            "--model",
            MODEL,
            "--stories",
            STORIES,
            "--out",
            tmp_path,
            "--fail-on-prediction-errors",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    failed = tmp_path / "failed_test_stories.yml"
    report = failed.read_text(encoding="utf-8") if failed.exists() else ""
    assert result.returncode == 0 and "# None of the test stories failed" in report, (
        report[-4000:] or result.stdout[-3000:] + result.stderr[-3000:]
    )
