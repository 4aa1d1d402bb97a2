"""ronin_lite.results: the shipped results files, read locally or downloaded (file:// here)."""

import json

import pytest

from ronin_lite import results


def test_local_results_are_read_in_place():
    path = results.result_path("eval_3d-lite_128.json")
    assert path.parent == results.RESULTS_DIR
    assert results.load_result("eval_3d-lite_128.json")["command"].startswith(
        "python -m ronin_lite.evaluate")


def test_missing_results_are_downloaded_once_and_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("RONIN_CACHE", str(tmp_path / "cache"))
    served = tmp_path / "served"
    served.mkdir()
    (served / "extra_result.json").write_text(json.dumps({"psnr": 30.0}))
    (served / "broken_result.json").write_text("<html>not found</html>")
    url = served.as_uri()
    assert results.load_result("extra_result.json", url) == {"psnr": 30.0}
    cached = tmp_path / "cache" / "results" / "extra_result.json"
    assert cached.is_file()
    (served / "extra_result.json").unlink()  # the cached copy is used from now on
    assert results.load_result("extra_result.json", url) == {"psnr": 30.0}
    with pytest.raises(ValueError, match="not a JSON results file"):
        results.load_result("broken_result.json", url)
    assert not list((tmp_path / "cache" / "results").glob("broken*"))  # nothing half-written


def test_bad_names_and_missing_local_files(tmp_path, monkeypatch):
    monkeypatch.setenv("RONIN_CACHE", str(tmp_path))
    monkeypatch.delenv("RONIN_RESULTS_URL", raising=False)
    with pytest.raises(ValueError, match="plain"):
        results.result_path("../secrets.json")
    with pytest.raises(FileNotFoundError, match="README"):
        results.result_path("never_written.json")
