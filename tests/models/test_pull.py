"""`slm-lsp models pull` against a real local HTTP server: full, resumed, wrong, offline."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace

import pytest

from slm_lsp.models import download as download_module
from slm_lsp.models.download import DiskFullError, display_url, download
from tests.models.conftest import (
    TINY_FILE,
    UNVERIFIED_FILE,
    WRONG_FILE,
    Mirror,
    closed_port,
    run,
)


def test_full_download_is_verified_and_placed(mirror: Mirror, env: dict[str, str], cache: Path, tiny_bytes: bytes) -> None:
    result = run(["models", "pull", "tiny-verified", "--mirror", mirror.url], env)
    assert result.returncode == 0, result.stderr
    target = cache / TINY_FILE
    assert result.stdout.strip() == str(target)
    assert target.read_bytes() == tiny_bytes
    assert "sha256 verified" in result.stderr
    assert sorted(p.name for p in cache.iterdir()) == [TINY_FILE]  # no .part left behind
    assert run(["models", "path", "tiny-verified"], env).stdout.strip() == str(target)
    again = run(["models", "pull", "tiny-verified", "--mirror", mirror.url], env)
    assert again.returncode == 0 and "already pulled" in again.stderr
    assert len(mirror.state.requests) == 1  # the second pull only re-checked the file


def test_mirror_from_environment_variable(mirror: Mirror, env: dict[str, str], cache: Path) -> None:
    result = run(["models", "pull", "tiny-verified"], {**env, "SLM_LSP_MODEL_MIRROR": mirror.url + "/"})
    assert result.returncode == 0, result.stderr
    assert mirror.state.requests[0]["path"] == f"/{TINY_FILE}"


def test_interrupted_download_resumes_with_range(mirror: Mirror, env: dict[str, str], cache: Path, tiny_bytes: bytes) -> None:
    mirror.state.truncate_next = 1
    first = run(["models", "pull", "tiny-verified", "--mirror", mirror.url], env)
    assert first.returncode == 1
    assert "interrupted" in first.stderr and "run the same command again" in first.stderr
    assert "Traceback" not in first.stderr
    half = len(tiny_bytes) // 2
    part = cache / f"{TINY_FILE}.part"
    assert part.stat().st_size == half and not (cache / TINY_FILE).exists()

    second = run(["models", "pull", "tiny-verified", "--mirror", mirror.url], env)
    assert second.returncode == 0, second.stderr
    assert mirror.state.requests[-1]["Range"] == f"bytes={half}-"
    assert f"resumed at byte {half}" in second.stderr
    assert hashlib.sha256((cache / TINY_FILE).read_bytes()).hexdigest() == hashlib.sha256(tiny_bytes).hexdigest()
    assert not part.exists()


def test_complete_partial_file_is_finished_without_refetching(mirror: Mirror, env: dict[str, str], cache: Path, tiny_bytes: bytes) -> None:
    """A .part that already holds every byte (killed before the rename) gets a 416 and is kept."""
    cache.mkdir()
    (cache / f"{TINY_FILE}.part").write_bytes(tiny_bytes)
    result = run(["models", "pull", "tiny-verified", "--mirror", mirror.url], env)
    assert result.returncode == 0, result.stderr
    assert (cache / TINY_FILE).read_bytes() == tiny_bytes


def test_wrong_checksum_deletes_the_download(mirror: Mirror, env: dict[str, str], cache: Path) -> None:
    result = run(["models", "pull", "tiny-wrong", "--mirror", mirror.url], env)
    assert result.returncode == 1
    assert "sha256" in result.stderr and "the download was deleted" in result.stderr
    assert "Traceback" not in result.stderr
    assert not any(cache.glob(f"{WRONG_FILE}*"))


def test_unverified_model_reports_its_hash(mirror: Mirror, env: dict[str, str], cache: Path, other_bytes: bytes) -> None:
    result = run(["models", "pull", "tiny-unverified", "--mirror", mirror.url], env)
    assert result.returncode == 0, result.stderr
    assert "cannot be verified" in result.stderr
    assert f"sha256 {hashlib.sha256(other_bytes).hexdigest()} (unverified" in result.stderr
    assert (cache / UNVERIFIED_FILE).is_file()


def test_server_down_says_offline(env: dict[str, str], cache: Path) -> None:
    port = closed_port()
    result = run(["models", "pull", "tiny-verified", "--mirror", f"http://127.0.0.1:{port}"], env)
    assert result.returncode == 2
    assert f"cannot reach 127.0.0.1:{port}: you appear to be offline" in result.stderr
    assert "slm-lsp models verify" in result.stderr and "Traceback" not in result.stderr


def test_unknown_model_and_bad_mirror_are_usage_errors(env: dict[str, str]) -> None:
    unknown = run(["models", "pull", "no-such-model"], env)
    assert unknown.returncode == 2 and "unknown model 'no-such-model'" in unknown.stderr
    bad = run(["models", "pull", "tiny-verified", "--mirror", "ftp://example"], env)
    assert bad.returncode == 2 and "http:// or https://" in bad.stderr


def test_missing_file_on_mirror(mirror: Mirror, env: dict[str, str]) -> None:
    del mirror.state.files[TINY_FILE]
    result = run(["models", "pull", "tiny-verified", "--mirror", mirror.url], env)
    assert result.returncode == 1 and "not found (HTTP 404)" in result.stderr


def test_mirror_credentials_are_sent_but_never_shown(mirror: Mirror, env: dict[str, str]) -> None:
    mirror.state.truncate_next = 1  # force an error message that names the URL's host
    url = mirror.url.replace("http://", "http://builder:s3cret-token@")
    result = run(["models", "pull", "tiny-verified", "--mirror", url], env)
    assert mirror.state.requests[0]["Authorization"].startswith("Basic ")
    assert "s3cret-token" not in result.stderr + result.stdout
    assert display_url(url + "/x.gguf?sig=abc") == mirror.url + "/x.gguf"


def test_disk_full_is_refused_before_downloading(mirror: Mirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(download_module.shutil, "disk_usage", lambda _path: SimpleNamespace(total=10, used=9, free=1))
    with pytest.raises(DiskFullError, match="not enough disk space"):
        download(f"{mirror.url}/{TINY_FILE}", tmp_path / TINY_FILE, expected_sha256=None, expected_size=5_000_000)
    assert mirror.state.requests == []  # refused before any byte was requested


def test_list_marks_pulled_and_unverified(mirror: Mirror, env: dict[str, str]) -> None:
    assert run(["models", "pull", "tiny-verified", "--mirror", mirror.url], env).returncode == 0
    result = run(["models", "list"], env)
    assert result.returncode == 0
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("tiny-")}
    assert rows["tiny-verified"].split()[-1] == "pulled" and " verified " in rows["tiny-verified"]
    assert "unverified" in rows["tiny-unverified"] and rows["tiny-unverified"].split()[-1] == "-"


def test_list_shows_roles_and_warns_about_unpinned_revisions(catalog: Path, env: dict[str, str]) -> None:
    text = catalog.read_text().replace('revision = "main"\n', f'revision = "{"ab" * 20}"\nrole = "actions"\n', 1)
    catalog.write_text(text)
    result = run(["models", "list"], env)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.startswith("tiny-")}
    assert rows["tiny-verified"][1] == "actions" and rows["tiny-wrong"][1] == "completion"
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2 and not any("tiny-verified" in line for line in warnings)
    assert any("tiny-wrong is not pinned to a commit (revision 'main')" in line and "fails its sha256 check" in line
               for line in warnings)
    assert any("tiny-unverified" in line and "nothing would notice" in line for line in warnings)


def test_credentials_are_not_sent_to_another_host_after_a_redirect(mirror: Mirror, env: dict[str, str], cache: Path) -> None:
    url = mirror.url.replace("http://", "http://builder:s3cret-token@") + "/redirect"
    result = run(["models", "pull", "tiny-verified", "--mirror", url], env)
    assert result.returncode == 0, result.stderr
    first, second = mirror.state.requests
    assert "Authorization" in first and second["Host"].startswith("localhost:")
    assert "Authorization" not in second
