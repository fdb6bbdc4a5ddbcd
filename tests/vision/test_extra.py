"""The `vision` extra is optional: posegen.vision imports without it and says what is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_pose_check_leaves_the_detector_unloaded() -> None:
    # `import posegen` must work without the `vision` extra: mediapipe is imported on first detect().
    code = "import sys, posegen.vision; sys.exit('mediapipe' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False, timeout=60)
    assert done.returncode == 0


def test_without_the_extra_the_detector_says_so() -> None:
    # A process where mediapipe cannot be imported: posegen.vision still imports, and says why not.
    code = (
        "import sys\n"
        "sys.modules['mediapipe'] = None\n"
        "from PIL import Image\n"
        "from posegen.vision import DetectorUnavailable, detect, detector_available\n"
        "assert not detector_available()\n"
        "try:\n"
        "    detect(Image.new('RGB', (64, 64)))\n"
        "except DetectorUnavailable as error:\n"
        "    assert 'vision' in str(error), error\n"
        "else:\n"
        "    sys.exit('detect ran without mediapipe')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False, timeout=60)
    assert done.returncode == 0
