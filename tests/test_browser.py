"""The report of a tiny run (tests/conftest.py ``tiny_report``) in a real browser.

Headless Chromium driven by selenium opens report.html from disk and checks what a reader
sees: the front page opens with the headline figures (not cut off at the top), the categories
are listed with the headline's first, the gallery of confusions shows as a decoded image whose
top can be reached, and the browser console has no errors. Screenshots are kept under the
test's tmp folder and, where the environment names one in ``ARTIFACTS_DIR`` (CI), copied there.

Needs Debian's ``chromium`` and ``chromium-driver`` (and selenium, requirements-dev.txt).
Without them the module is skipped, except under CI=true, where that is a failure (.ci/run
installs them).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

#: Report categories this workflow makes; the headline's must come first.
FIRST_CATEGORY = "At a glance"
CATEGORIES = [FIRST_CATEGORY, "Confusions", "Data", "Evaluation", "Strips", "Training"]
WAIT_S = 60  # upper bound of any wait for the page (a hang must not stall CI)
WINDOW = (1400, 900)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def unavailable_reason() -> str | None:
    """Why no headless Chromium can be driven here (None if it can)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (requirements-dev.txt)"
    if not browser_binary():
        return "no Chromium (Debian package chromium)"
    if not shutil.which("chromedriver"):
        return "no chromedriver (Debian package chromium-driver)"
    return None


def browser_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.fixture(scope="session")  # the scope of tiny_report: set up first, before the run
def driver():
    """A headless Chromium, logging the browser console; quit by its finalizer."""
    reason = unavailable_reason()
    if reason:
        if in_ci():
            pytest.fail(f"CI=true, but no headless browser can run: {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser_binary()
    for argument in (
        "--headless=new",
        "--no-sandbox",  # runs as root in CI containers
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:  # an explicit chromedriver: selenium never tries to download one
        browser = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    except WebDriverException as exc:
        if in_ci():
            pytest.fail(f"CI=true, but headless Chromium does not start: {exc.msg}")
        pytest.skip(f"headless Chromium does not start: {exc.msg}")
    browser.set_page_load_timeout(WAIT_S)
    yield browser
    browser.quit()


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory) -> list[Path]:
    """Folders screenshots go to: the test's tmp folder, and $ARTIFACTS_DIR where set."""
    folders = [tmp_path_factory.mktemp("browser")]
    if os.environ.get("ARTIFACTS_DIR"):
        folders.append(Path(os.environ["ARTIFACTS_DIR"]) / "browser")
        folders[-1].mkdir(parents=True, exist_ok=True)
    return folders


def screenshot(driver, artefacts, name: str) -> Path:
    path = artefacts[0] / name
    assert driver.save_screenshot(str(path)), f"no screenshot {path}"
    for folder in artefacts[1:]:
        shutil.copy(path, folder / name)
    return path


def wait(driver, condition, what: str):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, WAIT_S, poll_frequency=0.2).until(condition)
    except TimeoutException:
        raise AssertionError(f"the report never showed {what} (waited {WAIT_S} s)") from None


def menu_link(text: str):
    from selenium.webdriver.common.by import By

    return By.XPATH, f"//nav//a[normalize-space()='{text}']"


def click(driver, text: str) -> None:
    from selenium.webdriver.support import expected_conditions as EC

    wait(driver, EC.element_to_be_clickable(menu_link(text)), f"a link {text!r}").click()


def top_in_view(driver, element) -> bool:
    """Whether ``element``'s top can be seen: scrolled to the top of every scrolling ancestor,
    it starts inside the window (the report centres its panel; content that overflows the
    window must not lose its top, snakemake/snakemake#3906)."""
    return driver.execute_script(
        """
        const el = arguments[0];
        for (let p = el.parentElement; p; p = p.parentElement) { p.scrollTop = 0; }
        const box = el.getBoundingClientRect();
        return box.top >= 0 && box.top < window.innerHeight && box.height > 0;
        """,
        element,
    )


def test_the_report_in_a_browser(driver, artefacts, tiny_report):
    from selenium.webdriver.common.by import By

    root, report = tiny_report
    driver.get(report.resolve().as_uri())
    wait(driver, lambda d: d.find_elements(*menu_link(FIRST_CATEGORY)), "its menu")

    # The front page answers "how good is it": the headline figures, from metrics.json.
    headline = wait(
        driver,
        lambda d: d.find_element(By.XPATH, "//strong[normalize-space()='How good is it?']"),
        "the headline",
    )
    assert top_in_view(driver, headline), "the headline is cut off at the top of the page"
    page = driver.find_element(By.TAG_NAME, "body").text
    for experiment in ("jun2018", "inter_patient"):
        metrics = json.loads((root / f"results/{experiment}/metrics.json").read_text())
        assert f"{100 * metrics['accuracy']:.2f} %" in page, experiment
    assert "99.05 %" in page and "75.9 % (de Chazal" in page
    screenshot(driver, artefacts, "front_page.png")

    # Every category is listed, the headline's first.
    links = [a.text for a in driver.find_elements(By.XPATH, "//nav//a") if a.text in CATEGORIES]
    assert links[: len(CATEGORIES)] == CATEGORIES, links

    # The gallery of confusions of jun2018: shown as a decoded image, its top reachable.
    click(driver, "Confusions")
    click(driver, "jun2018")
    row = wait(
        driver,
        lambda d: d.find_element(By.XPATH, "//tr[td[contains(., 'gallery.png')]]"),
        "the gallery in the Confusions list",
    )
    row.find_element(By.XPATH, ".//a[@iconname='eye']").click()
    image = wait(
        driver,
        lambda d: next(
            (
                img
                for img in d.find_elements(By.CSS_SELECTOR, "img[src^='data:image/png']")
                if d.execute_script("return arguments[0].complete", img)
            ),
            None,
        ),
        "the gallery image",
    )
    width, height = driver.execute_script(
        "return [arguments[0].naturalWidth, arguments[0].naturalHeight]", image
    )
    assert width > 500 and height > 500, (width, height)  # decoded: a real PNG, not a broken one
    assert top_in_view(driver, image), "the gallery's top (its title) is cut off"
    screenshot(driver, artefacts, "gallery.png")

    # Nothing went wrong in the page's scripts.
    severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not severe, severe
