"""axe-core in a real Chromium page, run only once the page has settled.

Every browser test puts axe-core into its pages with `context.add_init_script(
script=Axe().axe_script)` and then checks each screen with `run_axe`. A click that
submits a form returns once the next page is committed, not loaded: axe started then
meets a document that is still being built ("Cannot read properties of null (reading
'documentElement')" under load). So the check first waits for the page's load event
and for axe itself to be there, with no fixed sleep.
"""

from __future__ import annotations

from pathlib import Path

from axe_playwright_python.base import AxeResults

__all__ = ["WCAG_21_AA", "assert_accessible", "run_axe"]

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

WCAG_21_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


def run_axe(page, options: dict | None = None) -> AxeResults:
    page.wait_for_load_state("load")
    page.wait_for_function("() => document.readyState === 'complete' && typeof axe !== 'undefined'")
    return AxeResults(page.evaluate("options => axe.run(document, options)", options or WCAG_21_AA))


def assert_accessible(page, name: str, *, folder: str) -> None:
    """No axe violation on the screen on show; its screenshot is kept in
    test-artifacts/<folder>/<name>.png for a person to look at."""
    results = run_axe(page).response
    (ARTIFACTS / folder).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / folder / f"{name}.png"), full_page=True)
    violations = [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in results["violations"]]
    assert violations == [], f"{name}: {violations}"
