"""Package-level contracts: CLI help lists every command; space and hardware never import torch."""

from __future__ import annotations

import subprocess
import sys

from recnas.cli.main import COMMANDS
from recnas.cli.main import main


def test_help_lists_every_command(capsys) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


def test_unknown_command_is_one_line_error(capsys) -> None:
    assert main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err


def test_space_and_hardware_do_not_import_torch() -> None:
    code = (
        "import sys, importlib, pkgutil\n"
        "import recnas.space, recnas.hardware\n"
        "for pkg in (recnas.space, recnas.hardware):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "assert 'torch' not in sys.modules, [m for m in sys.modules if m.startswith('torch')][:3]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
