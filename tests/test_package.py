"""Packaging, lazy imports, optional dependencies and the README's schema tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import cim
from cim._compat import import_optional_dependency
from cim.layers import schemas_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_import_cim_is_light():
    code = (
        "import sys, cim, cim.cli, cim.datasets, geometry, scenarios;"
        "heavy = [m for m in ('pyvista', 'vtk', 'matplotlib', 'ifcopenshell', 'dask',"
        " 'osmium', 'pvlib') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_missing_optional_dependency_names_the_extra():
    with pytest.raises(ImportError, match=r"pip install 'cim-twin\[bim\]'"):
        import_optional_dependency("surely_not_installed_module_xyz", extra="bim")


def test_readme_schema_tables_are_current():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- schemas:start")
    start = readme.index("\n", start) + 1
    end = readme.index("<!-- schemas:end -->")
    assert readme[start:end].strip() == schemas_markdown().strip(), (
        "README layer tables are stale; regenerate them from "
        "cim.layers.schemas_markdown()"
    )


def test_public_api():
    for name in ("Twin", "read", "datasets", "CRSError", "LayerSchemaError"):
        assert hasattr(cim, name)
    assert issubclass(cim.CRSError, ValueError)
    assert issubclass(cim.LayerSchemaError, cim.CIMError)
