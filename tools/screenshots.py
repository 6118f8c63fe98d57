#!/usr/bin/env python3
"""Screenshots of the suite's screens from a running demo (docs/ images).

Needs Debian's chromium and chromium-driver and `pip install selenium`; run it
while `make demo` serves http://127.0.0.1:8069. Usage:
    python3 tools/screenshots.py [--base URL] [--size WxH] OUT_DIR [name=path ...]
Paths are Odoo URLs such as /odoo/action-retail_connect_base.action_overview;
``--base`` is the demo's URL when it runs on another port (``demo --port``);
``--size`` the window's size (default 1440x900) for a screen that needs more.
"""

import shutil
import sys
import tempfile
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

BASE = "http://127.0.0.1:8069"
DEFAULT_PATHS = {
    "overview": "/odoo/action-retail_connect_base.action_overview",
    "exceptions": "/odoo/action-retail_connect_base.action_sync_exception",
}


def browser(size="1440,900"):
    options = webdriver.ChromeOptions()
    profile = tempfile.mkdtemp(prefix="rc-shots-")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={size}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium") or "chromium"
    service = Service(shutil.which("chromedriver") or "chromedriver")
    return webdriver.Chrome(service=service, options=options)


def main(out, paths, base=BASE, size="1440,900"):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    driver = browser(size)
    try:
        driver.get(f"{base}/web/login")
        WebDriverWait(driver, 20).until(
            EC.element_to_be_clickable((By.ID, "login"))
        ).send_keys("admin")
        driver.find_element(By.ID, "password").send_keys("admin" + Keys.RETURN)
        time.sleep(3)
        for name, path in paths.items():
            driver.get(f"{base}{path}")
            time.sleep(4)
            target = out / f"{name}.png"
            driver.save_screenshot(str(target))
            print(target)
    finally:
        driver.quit()


if __name__ == "__main__":
    argv = sys.argv[1:]
    base, size = BASE, "1440,900"
    while argv[:1] in (["--base"], ["--size"]):
        if argv[0] == "--base":
            base = argv[1].rstrip("/")
        else:
            size = argv[1].replace("x", ",")
        argv = argv[2:]
    extra = dict(arg.split("=", 1) for arg in argv[1:])
    main(argv[0] if argv else "docs/img", extra or DEFAULT_PATHS, base, size)
