# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""The semcom tool, called through main(argv) as a user would call it."""

import json

import numpy as np
import pytest
import torch

from gnuradio.semcom.app import cli
from gnuradio.semcom.core import zoo
from gnuradio.semcom.core.blob import parse_blob


def test_demo_writes_images_and_metrics(tmp_path, capsys):
    assert cli.main(["demo", "--zdim", "40", "--out", str(tmp_path)]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["images"] == 64 and metrics["link"] == "noiseless"
    assert metrics["recognition_rate_ratio"] >= 0.95
    assert len(list((tmp_path / "recon").glob("*.png"))) == 64
    assert (tmp_path / "contact_sheet.png").stat().st_size > 1000
    assert json.loads(capsys.readouterr().out)["images"] == 64


def test_evaluate_json_on_real_test_images(shared_data, capsys):
    assert cli.main(["evaluate", "--dataset", "mnist", "--zdim", "40", "--limit", "500",
                     "--data", str(shared_data), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["images"] == 500 and result["zdim"] == 40
    assert result["compression_ratio"] == pytest.approx(19.6)
    assert result["accuracy_original"] > 0.97
    assert result["recognition_rate_ratio"] > 0.95
    assert result["blob_bits"] == 8 * len(parse_blob_bytes(40))


def parse_blob_bytes(zdim):
    from gnuradio.semcom.core.blob import blob_from_aesc

    return blob_from_aesc(zoo.load_aesc("mnist", zdim))


def test_blob_write_and_inspect(tmp_path, capsys):
    out = tmp_path / "z40.scmb"
    assert cli.main(["blob", "--zdim", "40", "--out", str(out)]) == 0
    blob = parse_blob(out.read_bytes())
    assert blob.meta["zdim"] == 40 and blob.bits == 8
    capsys.readouterr()
    assert cli.main(["blob", "--inspect", str(out)]) == 0
    assert blob.model_id in capsys.readouterr().out


def test_malformed_blob_file_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.scmb"
    bad.write_bytes(b"SCMB\x01")
    assert cli.main(["blob", "--inspect", str(bad)]) == 2
    assert "truncated" in capsys.readouterr().err


def test_missing_dataset_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["evaluate", "--data", str(tmp_path), "--limit", "10"]) == 2
    err = capsys.readouterr().err
    assert "MNIST folder" in err and "SEMCOM_DATA" in err


def test_missing_model_is_a_clear_error(capsys):
    assert cli.main(["blob", "--zdim", "7"]) == 2
    assert "semcom train --dataset mnist --zdim 7" in capsys.readouterr().err


def test_train_cli_tiny_run(mnist_root, tmp_path, capsys):
    out = tmp_path / "tiny.pt"
    code = cli.main(["train", "--dataset", "mnist", "--zdim", "40", "--data", str(mnist_root),
                     "--epochs", "1", "--max-steps", "3", "--val-size", "100", "--quiet",
                     "--out", str(out)])
    assert code == 0 and out.is_file()
    model = zoo.load_aesc(path=out)
    assert model.zdim == 40
    # Stopped by --max-steps inside the first epoch: no finished epoch to report.
    assert json.loads(capsys.readouterr().out)["epochs"] == 0


def test_shipped_models_are_listed():
    assert {196, 98, 40} <= set(zoo.shipped_aesc("mnist"))
    images, labels = zoo.load_sample()
    assert images.shape == (64, 1, 28, 28) and images.dtype == np.uint8 and labels.shape == (64,)


def test_installed_command_runs_in_this_environment():
    """`.venv/bin/semcom` must start with the interpreter that has the package."""
    import subprocess
    import sys
    from pathlib import Path

    tool = Path(sys.executable).parent / "semcom"
    assert tool.exists(), f"{tool} is not installed: run `make` (it installs the module)"
    out = subprocess.run([str(tool), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "train" in out.stdout and "evaluate" in out.stdout


def test_export_model_halves_the_file_and_keeps_the_weights(mnist_root, tmp_path, capsys):
    out = tmp_path / "tiny.pt"
    assert cli.main(["train", "--dataset", "mnist", "--zdim", "40", "--data", str(mnist_root),
                     "--epochs", "1", "--max-steps", "2", "--val-size", "100", "--quiet",
                     "--out", str(out)]) == 0
    small = tmp_path / "tiny16.pt"
    capsys.readouterr()
    assert cli.main(["export-model", str(out), "--out", str(small)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["meta"]["storage"] == "float16" and report["bytes"] == small.stat().st_size
    assert small.stat().st_size < 0.6 * out.stat().st_size
    full, half = zoo.load_aesc(path=out), zoo.load_aesc(path=small)
    for (name, a), b in zip(full.state_dict().items(), half.state_dict().values()):
        assert b.dtype == torch.float32, name         # loaded back as float32
        assert torch.allclose(a, b, rtol=1e-3, atol=1e-4), name
    assert cli.main(["export-model", str(tmp_path / "missing.pt"), "--out", str(small)]) == 2
    assert "does not exist" in capsys.readouterr().err
