#!/usr/bin/python3
"""Drives the lockbox console in a real headless Chromium (Debian's chromium + chromium-driver,
python3-selenium) for t_console.sh: sign-in through the real glewlwyd login page, the pages,
Approve / Deny, Revoke, escaping, sign-out. Prints TAP-style "ok - ..." / "not ok - ..." lines
(the shell script numbers them) and keeps a screenshot of every page in OUT_DIR.

usage: console_browser.py SCENARIO CONSOLE_URL OUT_DIR USER PASSWORD [ARG...]
"""
import json
import os
import shutil
import sys
import tempfile
import time
import traceback

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

WAIT = 20


def report(ok, what):
    print(("ok - " if ok else "not ok - ") + what, flush=True)


def browser(profile, width=1200, height=900):
    o = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 "--ignore-certificate-errors", "--user-data-dir=" + profile,
                 "--window-size=%d,%d" % (width, height)):
        o.add_argument(flag)
    o.binary_location = "/usr/bin/chromium"
    o.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


class Console:
    def __init__(self, url, out, name):
        self.url = url
        self.out = out
        self.profile = tempfile.mkdtemp(prefix="lbx-chromium.")
        self.d = browser(self.profile)
        self.name = name

    def close(self):
        try:
            self.d.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def shot(self, page):
        self.d.save_screenshot(os.path.join(self.out, "%s-%s.png" % (self.name, page)))

    def wait(self, cond, timeout=WAIT):
        # The page re-renders on every route: an element found may be replaced while waited on.
        return WebDriverWait(self.d, timeout, ignored_exceptions=(
            NoSuchElementException, StaleElementReferenceException)).until(cond)

    def css(self, sel, timeout=WAIT):
        return self.wait(EC.presence_of_element_located((By.CSS_SELECTOR, sel)), timeout)

    def sign_in(self, user, password, start="/"):
        self.d.get(self.url + start)
        self.css("#signin").click()
        # glewlwyd's own login page (its webapp, on its own origin).
        self.wait(EC.visibility_of_element_located((By.ID, "username"))).send_keys(user)
        self.d.find_element(By.ID, "password").send_keys(password + Keys.ENTER)
        self.provider_continue()
        self.css("#who")
        self.wait(lambda d: d.find_element(By.ID, "who").text == user)

    def provider_continue(self):
        """glewlwyd's page after a good password: the user confirms going on to the console."""
        self.wait(EC.element_to_be_clickable(
            (By.XPATH, "//button[normalize-space()='Continue']"))).click()

    def session_cookie(self):
        for c in self.d.get_cookies():
            if c["name"] == "__Host-lbx_session":
                return c
        return None

    def fetch(self, method, path, headers, body="{}"):
        """A request from the console's own page (the browser adds cookies and Origin)."""
        return self.d.execute_async_script(
            "const [m, p, h, b, done] = arguments;"
            "fetch(p, {method: m, headers: h, body: m === 'GET' ? undefined : b,"
            " credentials: 'same-origin'}).then(r => done(r.status)).catch(e => done(String(e)));",
            method, path, headers, body)

    def diagnose(self):
        """After a failure: the page, the browser's console and the requests that failed."""
        print("# page: " + self.d.current_url, flush=True)
        for line in self.d.find_element(By.TAG_NAME, "body").text.splitlines()[:15]:
            print("#   " + line, flush=True)
        for e in self.d.get_log("browser"):
            print("# console %s: %s" % (e.get("level"), e.get("message")), flush=True)
        for e in self.d.get_log("performance"):
            m = json.loads(e["message"])["message"]
            if m["method"] == "Network.responseReceived" and m["params"]["response"]["status"] >= 400:
                r = m["params"]["response"]
                print("# network %d %s" % (r["status"], r["url"][:200]), flush=True)
            elif m["method"] == "Network.loadingFailed" and not m["params"].get("canceled"):
                print("# network failed: %s" % m["params"].get("errorText"), flush=True)

    def xss_fired(self):
        return self.d.execute_script("return window.__lbx_xss === true;") or \
            any("lbx-xss" in (e.get("message") or "") for e in self.d.get_log("browser"))


def scenario_approve(c, args):
    """args: pending request id to approve, id to deny, hostile strings (JSON list)."""
    approve_id, deny_id, hostile = args[0], args[1], json.loads(args[2])
    c.d.get(c.url + "/")
    c.css("#signin")
    c.shot("signed-out")
    report(True, "signed out, the console offers sign-in only")
    c.sign_in(c.user, c.password, "/#/requests/" + approve_id)
    report(True, "sign-in through the identity provider's login page returns to the console")
    report(not c.d.find_element(By.ID, "nav-policies").is_displayed(),
           "an approver is not offered the Policies page")
    card = c.css("h1")
    c.wait(lambda d: approve_id in d.find_element(By.CSS_SELECTOR, "h1").text)
    report(approve_id in card.text, "the e-mail link's page (request detail) opens after sign-in")
    c.shot("detail")
    c.d.get(c.url + "/#/pending")
    c.css('section.request[data-id="%s"]' % deny_id)
    c.shot("pending")
    text = c.d.find_element(By.ID, "main").text
    for field in ("Support request", "Host / environment", "Scope", "Status", "Requested",
                  "Request expiry", "Access period", "Access expiry", "Justification",
                  "Requester", "Approvers", "Approvals so far"):
        if field not in text:
            report(False, "Pending shows the field " + field)
            break
    else:
        report(True, "Pending shows every field of the seeds (ticket, host, scope, status, "
                     "times, access period and expiry, justification, requester, approvals)")
    report(all(h in text for h in hostile),
           "hostile ticket / justification text is shown verbatim, as text")
    report(not c.xss_fired() and not c.d.find_elements(By.CSS_SELECTOR, "main script, main img"),
           "no script ran and no element was injected from request fields")
    # Deny without a reason: refused in the page, nothing sent.
    sec = c.css('section.request[data-id="%s"]' % deny_id)
    sec.find_element(By.CSS_SELECTOR, "button.deny").click()
    c.wait(lambda d: "needs a reason" in sec.find_element(By.CSS_SELECTOR, ".error").text)
    report(True, "a denial without a reason is refused with a message")
    sec.find_element(By.TAG_NAME, "textarea").send_keys(hostile[0])
    sec.find_element(By.CSS_SELECTOR, "button.deny").click()
    c.wait(EC.staleness_of(sec))
    report(True, "Deny with a reason (keyboard-typed) leaves Pending")
    sec = c.css('section.request[data-id="%s"]' % approve_id)
    sec.find_element(By.TAG_NAME, "textarea").send_keys("ok for the disk check")
    # Keyboard: focus Approve and press Enter.
    btn = sec.find_element(By.CSS_SELECTOR, "button.approve")
    btn.send_keys(Keys.ENTER)
    c.wait(EC.staleness_of(sec))
    report(True, "Approve by keyboard leaves Pending")
    c.d.get(c.url + "/#/active")
    row = c.css('tr[data-id="%s"]' % approve_id)
    left1 = row.find_element(By.CSS_SELECTOR, ".left").text
    time.sleep(2.2)
    left2 = row.find_element(By.CSS_SELECTOR, ".left").text
    c.shot("active")
    report(left1 != left2 and left2 != "ended", "Active sessions counts the time left down live "
           "(%s -> %s)" % (left1, left2))
    c.d.get(c.url + "/#/recent")
    c.css("table")
    c.shot("recent")
    rtext = c.d.find_element(By.ID, "main").text
    report(approve_id in rtext and deny_id in rtext, "Recent lists the decided requests")
    c.d.get(c.url + "/#/recent?status=denied")
    c.wait(lambda d: "denied" in d.find_element(By.ID, "f-status").get_attribute("value"))
    time.sleep(0.5)
    rtext = c.d.find_element(By.ID, "main").text
    report(deny_id in rtext and approve_id not in rtext, "Recent filters by status")
    # Phone-sized screen: the pending page still renders its cards.
    c.d.set_window_size(390, 844)
    c.d.get(c.url + "/#/requests/" + deny_id)
    c.wait(lambda d: deny_id in d.find_element(By.CSS_SELECTOR, "h1").text)
    c.shot("phone-detail")
    width = c.d.execute_script("return document.documentElement.scrollWidth;")
    report(width <= 400, "a phone-sized screen needs no horizontal scrolling (%d px)" % width)
    c.d.set_window_size(1200, 900)
    cookie = c.session_cookie()
    print("# session-cookie " + (cookie["value"] if cookie else ""), flush=True)
    report(cookie is not None and cookie.get("httpOnly") and cookie.get("secure") and
           cookie.get("sameSite") == "Strict", "the session cookie is HttpOnly, Secure, SameSite=Strict")
    # CSRF from the page itself: a state change without the token is refused.
    st = c.fetch("POST", "/v1/requests/%s/revoke" % approve_id, {"Content-Type": "application/json"})
    report(st == 403, "a POST with the session cookie but no CSRF token is refused (%s)" % st)
    st = c.fetch("POST", "/v1/requests/%s/revoke" % approve_id,
                 {"Content-Type": "application/json", "X-CSRF-Token": "A" * 43})
    report(st == 403, "a POST with a wrong CSRF token is refused (%s)" % st)
    print("# csrf " + c.d.execute_script("return state.csrf;"), flush=True)


def scenario_revoke(c, args):
    rid = args[0]
    c.sign_in(c.user, c.password, "/#/active")
    row = c.css('tr[data-id="%s"]' % rid)
    row.find_element(By.CSS_SELECTOR, "button.revoke").click()
    alert = c.wait(EC.alert_is_present())
    alert.send_keys("incident over")
    # When the approver confirms: the shell script measures the live SSH session's end from here.
    print("# revoke-confirmed-ms %d" % int(time.time() * 1000), flush=True)
    alert.accept()
    c.wait(EC.staleness_of(row))
    report(True, "Revoke on Active sessions removes the session from the page")
    c.d.get(c.url + "/#/audit")
    c.wait(lambda d: "for auditors and administrators" in d.find_element(By.ID, "main").text)
    report(not c.d.find_elements(By.ID, "chain"), "an approver is not shown the audit log")
    c.css("#signout").click()
    c.css("#signin")
    c.shot("signed-out-again")
    report(c.session_cookie() is None, "sign-out clears the session cookie")
    c.d.get(c.url + "/#/pending")
    c.d.refresh()
    c.css("#signin")
    report(True, "after sign-out the console asks to sign in again")


def scenario_audit(c, args):
    """An auditor: the audit page checks the hash chain in the browser; a request's trail."""
    rid = args[0]
    c.sign_in(c.user, c.password, "/#/audit")
    c.wait(lambda d: "intact" in d.find_element(By.ID, "chain").text or
           "broken" in d.find_element(By.ID, "chain").text)
    c.shot("audit")
    report("intact" in c.d.find_element(By.ID, "chain").text,
           "Audit shows the hash chain intact, checked in the browser")
    text = c.d.find_element(By.ID, "main").text
    report("console_signed_in" in text and "grant_revoked" in text,
           "sign-ins and the revocation are in the audit log")
    c.d.get(c.url + "/#/audit?q=" + rid)
    c.wait(lambda d: "intact" in d.find_element(By.ID, "chain").text and
           d.find_element(By.ID, "f-q").get_attribute("value") == rid)
    cells = [td.text for td in c.d.find_elements(By.CSS_SELECTOR, '#main tbody td[data-label="Request"]')]
    report(cells.count(rid) >= 3 and all(x in ("", rid) for x in cells),
           "Audit search narrows to one request's events (%d of %d rows are its own)" %
           (cells.count(rid), len(cells)))
    c.d.get(c.url + "/#/requests/" + rid)
    c.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#main ol li")) >= 3)
    c.shot("request-trail")
    trail = c.d.find_element(By.CSS_SELECTOR, "#main ol").text
    report(all(a in trail for a in ("request_created", "request_approved", "grant_revoked")),
           "the request's page shows its own audit trail (created, approved, revoked)")
    c.css("#recordings a.recording").click()
    c.css("#term")
    c.d.execute_script("document.title = 'lockbox console';")
    Select(c.css("#speed")).select_by_value("8")
    c.css("#play").click()
    c.wait(lambda d: "done" in d.find_element(By.ID, "term").text)
    c.shot("replay")
    term = c.d.find_element(By.ID, "term").text
    report("$ df -h /var" in term and "aXc" in term and "link" in term,
           "the recording replays in the browser (text, backspace edit, idle gap cut)")
    report("<script>window.__lbx_xss=true</script><img src=x" in term and not c.xss_fired() and
           not c.d.find_elements(By.CSS_SELECTOR, "#term script, #term img, #term a"),
           "markup in the recorded output is shown as text, nothing of it runs")
    report(c.d.title == "lockbox console" and "owned" not in term and "evil" not in term,
           "escape sequences (title, hyperlink, clipboard) reach neither the page nor the text")
    c.d.execute_script("document.getElementById('seek').value = 0;"
                       "document.getElementById('seek').dispatchEvent(new Event('input'));")
    report("done" not in c.d.find_element(By.ID, "term").text,
           "the position slider goes back to the start")


def scenario_tenant(c, args):
    """An approver of another tenant: their own tenant's request, nothing of this one."""
    theirs, others = args[0], args[1:]
    c.sign_in(c.user, c.password, "/#/pending")
    c.css('section.request[data-id="%s"]' % theirs)
    c.shot("other-tenant")
    text = c.d.find_element(By.ID, "main").text
    report(not any(o in text.split() for o in others),
           "an approver of another tenant sees their tenant's request and none of this one's")
    c.d.get(c.url + "/#/recent")
    c.css("table")
    text = c.d.find_element(By.ID, "main").text
    report(theirs in text.split() and not any(o in text.split() for o in others), "nor in Recent")
    c.d.get(c.url + "/#/requests/" + others[0])
    c.wait(lambda d: "Error" in d.find_element(By.CSS_SELECTOR, "h1").text)
    report(not c.d.find_elements(By.CSS_SELECTOR, "button.approve"), "and cannot open one by its id")


def scenario_policies(c, args):
    """A tenant's global admin: their tenant's policy and customer roles, nothing else."""
    c.sign_in(c.user, c.password, "/#/policies?scope=tenant:contoso")
    form = c.css("#policy-form")
    c.wait(lambda d: "Policy of tenant:contoso" in d.find_element(By.ID, "main").text)
    c.shot("policies")
    scopes = [o.get_attribute("value") for o in c.d.find_elements(By.CSS_SELECTOR, "#f-scope option")]
    report("tenant:contoso" in scopes and "subscription:prod" in scopes and
           not any("fab" in x for x in scopes),
           "Policies offers contoso's tenant and subscription scopes only (%s)" % ", ".join(scopes))
    form.find_element(By.NAME, "request_ttl").send_keys("abc")
    c.css("#policy-save").click()
    c.wait(lambda d: "not a duration" in d.find_element(By.ID, "policy-error").text)
    report(True, "a malformed duration is refused in the page")
    form.find_element(By.NAME, "request_ttl").clear()
    form.find_element(By.NAME, "request_ttl").send_keys("3h")
    form.find_element(By.NAME, "access_duration").send_keys("9h")
    c.css("#policy-save").click()
    c.wait(lambda d: "8 h" in d.find_element(By.ID, "policy-error").text)
    report(True, "an access duration over 8 h is refused by the broker, its message shown")
    form.find_element(By.NAME, "access_duration").clear()
    form.find_element(By.NAME, "access_duration").send_keys("90m")
    form.find_element(By.NAME, "approvals_required").send_keys("1")
    Select(form.find_element(By.NAME, "internal_review")).select_by_value("off")
    c.css("#policy-save").click()
    c.wait(EC.staleness_of(form))
    form = c.css("#policy-form")
    report(form.find_element(By.NAME, "request_ttl").get_attribute("value") == "10800",
           "the saved policy is shown back (request TTL 10800 s)")
    c.d.get(c.url + "/#/policies?scope=tenant:fabrikam")
    c.wait(lambda d: "Error" in d.find_element(By.CSS_SELECTOR, "h1").text)
    report(not c.d.find_elements(By.ID, "policy-form"), "another tenant's policy does not open")
    c.d.get(c.url + "/#/policies?scope=subscription:prod")
    rf = c.css("#role-form")
    rf.find_element(By.ID, "r-identity").send_keys(args[0])
    Select(rf.find_element(By.ID, "r-role")).select_by_value("auditor")
    Select(rf.find_element(By.ID, "r-scope")).select_by_value("tenant:contoso")
    rf.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    c.wait(lambda d: any(args[0] in r.text and "auditor" in r.text
                         for r in d.find_elements(By.CSS_SELECTOR, "#roles tbody tr")))
    report(True, "she assigns a customer role on her tenant")
    table = c.d.find_element(By.ID, "roles").text
    report("fabrikam" not in table and " fab" not in table and "engineer" not in table,
           "the role list shows nothing of another tenant nor the provider's roles")
    row = [r for r in c.d.find_elements(By.CSS_SELECTOR, "#roles tbody tr")
           if args[0] in r.text and "auditor" in r.text][0]
    row.find_element(By.CSS_SELECTOR, "button.remove-role").click()
    c.wait(EC.alert_is_present()).accept()
    c.wait(EC.staleness_of(row))
    report(not any(args[0] in r.text and "auditor" in r.text
                   for r in c.d.find_elements(By.CSS_SELECTOR, "#roles tbody tr")),
           "and removes it")
    c.shot("policies-roles")


def scenario_own(c, args):
    """The requester signs in: their own request cannot be decided by them."""
    c.sign_in(c.user, c.password, "/#/requests/" + args[0])
    btn = c.css("button.approve")
    report(btn.get_attribute("disabled") is not None, "an engineer cannot approve their own request")


def scenario_refused(c, args):
    """A provider user with no lockbox identity."""
    c.d.get(c.url + "/")
    c.css("#signin").click()
    c.wait(EC.visibility_of_element_located((By.ID, "username"))).send_keys(c.user)
    c.d.find_element(By.ID, "password").send_keys(c.password + Keys.ENTER)
    c.provider_continue()
    c.wait(lambda d: "Sign-in refused" in d.find_element(By.TAG_NAME, "body").text)
    c.shot("refused")
    report(c.session_cookie() is None, "a provider account with no lockbox identity is refused")


def main():
    scenario, url, out, user, password = sys.argv[1:6]
    c = Console(url, out, scenario)
    c.user, c.password = user, password
    try:
        globals()["scenario_" + scenario](c, sys.argv[6:])
    except Exception as e:  # one failure line; the page, its console and network errors kept
        c.shot("failure")
        where = ", ".join("line %d (%s)" % (f.lineno, f.line)
                          for f in traceback.extract_tb(e.__traceback__)
                          if f.filename == __file__ and f.name != "main")
        report(False, "%s: %s at %s: %s" % (scenario, type(e).__name__, where,
                                            str(e).splitlines()[0] if str(e) else ""))
        c.diagnose()
    finally:
        c.close()


if __name__ == "__main__":
    main()
