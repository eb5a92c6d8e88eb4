"""axe-core in a real Chromium page, run only once the page has settled.

Every browser test puts axe-core into its pages with `context.add_init_script(
script=Axe().axe_script)` and then checks each screen with `run_axe`. A click that
submits a form returns once the next page is committed, not loaded: axe started then
meets a document that is still being built ("Cannot read properties of null (reading
'documentElement')" under load). So the check first waits for the page's load event
and for axe itself to be there, with no fixed sleep.
"""

from __future__ import annotations

from axe_playwright_python.base import AxeResults

__all__ = ["WCAG_21_AA", "run_axe"]

WCAG_21_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


def run_axe(page, options: dict | None = None) -> AxeResults:
    page.wait_for_load_state("load")
    page.wait_for_function("() => document.readyState === 'complete' && typeof axe !== 'undefined'")
    return AxeResults(page.evaluate("options => axe.run(document, options)", options or WCAG_21_AA))
