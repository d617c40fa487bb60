// Copydesk's keyboard and small behaviours on top of htmx. Everything here is an
// enhancement: every action is also a plain form that works without JavaScript.
(function () {
  "use strict";

  const rows = () => Array.from(document.querySelectorAll("#queue-rows tr.row"));
  const focusedRow = () => document.activeElement && document.activeElement.closest("tr.row");
  const articleId = (row) => row.id.slice("article-".length);
  let lastChecked = null;

  function isTyping(event) {
    const el = event.target;
    return el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName);
  }

  function moveFocus(step) {
    const all = rows();
    if (!all.length) return;
    const index = all.indexOf(focusedRow());
    const next = index < 0 ? all[0] : all[Math.min(all.length - 1, Math.max(0, index + step))];
    next.focus();
  }

  function openArticle(row) {
    const link = row && row.querySelector("a[data-open]");
    if (link) link.click();
  }

  // A decision by keyboard: on the open panel's article, or else on the focused row, with the
  // same request the panel's form sends (the server answers a row with the row).
  function decide(action) {
    const panel = document.querySelector("#panel[data-article]");
    const row = focusedRow();
    if (panel && (!row || articleId(row) === panel.dataset.article)) {
      click(panel.querySelector('[data-action="' + action + '"]'));
    } else if (row && row.classList.contains("status-pending")) {
      const version = row.querySelector('input[type="checkbox"]').value.split(":")[1];
      htmx.ajax("POST", row.querySelector("a[data-open]").getAttribute("href") + "/" + action, {
        source: document.body, target: row, swap: "outerHTML", values: { version: version, answer: "row" },
      });
    }
  }

  // htmx binds new content when it settles, a few ms after the swap: a shortcut pressed in
  // between would otherwise submit the plain form and leave the page.
  function click(element) {
    if (!element) return;
    htmx.process(element.form || element);
    element.click();
  }

  const shortcuts = {
    j: () => moveFocus(1),
    k: () => moveFocus(-1),
    o: () => openArticle(focusedRow()),
    Enter: () => openArticle(focusedRow()),
    a: () => decide("approve"),
    r: () => decide("reject"),
    h: () => { const heat = document.querySelector('#panel input[name="heat"]'); if (heat) heat.focus(); },
    x: () => { const box = focusedRow() && focusedRow().querySelector('input[type="checkbox"]'); if (box) box.click(); },
    u: () => click(document.querySelector("#notice [data-undo] button")),
    m: () => mergeSuggestion(),
    "/": () => { const search = document.getElementById("q"); if (search) { search.focus(); search.select(); } },
    "?": () => toggleShortcuts(),
  };

  // `m` merges the suggestion the focus is in, or else the open panel's first one.
  function mergeSuggestion() {
    const inside = document.activeElement && document.activeElement.closest("#panel [data-suggestion]");
    const suggestion = inside || document.querySelector("#panel [data-suggestion]");
    if (suggestion) click(suggestion.querySelector('[data-action="merge"]'));
  }

  function toggleShortcuts() {
    const dialog = document.getElementById("shortcuts");
    if (!dialog) return;
    if (dialog.open) dialog.close(); else dialog.showModal();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event)) return;
    if (event.key === "Enter" && !focusedRow()) return;
    const shortcut = shortcuts[event.key];
    if (!shortcut) return;
    event.preventDefault();
    shortcut();
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-shortcuts-toggle]")) toggleShortcuts();
    const box = event.target.closest('#queue-rows input[type="checkbox"]');
    if (!box) return;
    // Shift-click selects the range from the last box clicked.
    if (event.shiftKey && lastChecked && lastChecked !== box) {
      const boxes = rows().map((row) => row.querySelector('input[type="checkbox"]'));
      const [from, to] = [boxes.indexOf(lastChecked), boxes.indexOf(box)].sort((a, b) => a - b);
      boxes.slice(from, to + 1).forEach((each) => { each.checked = box.checked; });
    }
    lastChecked = box;
  });

  // The slider is a second way to type the heat; only the number input is submitted.
  document.addEventListener("input", function (event) {
    if (!event.target.matches("[data-heat-slider]")) return;
    const number = event.target.form.querySelector('input[name="heat"]');
    number.value = event.target.value;
  });

  document.body.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt.id === "poller") {
      event.detail.parameters.id = rows().map(articleId);
    }
  });

  // After a decision, go on to the next pending article, so the queue can be worked by keyboard
  // alone. htmx re-fires afterRequest on a connected element when the requester was swapped away.
  document.body.addEventListener("htmx:afterRequest", function (event) {
    const config = event.detail.requestConfig;
    const decided = config && /\/articles\/(\d+)\/(approve|reject)$/.exec(config.path);
    if (!decided || event.detail.xhr.status !== 200 || config.verb !== "post") return;
    const all = rows();
    const row = document.getElementById("article-" + decided[1]);
    const next = all.slice(row ? all.indexOf(row) + 1 : 0).find((each) => each.classList.contains("status-pending"));
    if (!next) return;
    next.focus();
    const panel = document.querySelector("#panel[data-article]");
    if (panel && panel.dataset.article === decided[1]) openArticle(next);
  });

  // A row someone changed (here or elsewhere) fetches itself again, in place.
  document.body.addEventListener("rows-stale", function (event) {
    event.detail.ids.forEach(function (id) {
      const row = document.getElementById("article-" + id);
      if (row) htmx.ajax("GET", row.querySelector("a[data-open]").getAttribute("href") + "/row", { source: document.body, target: row, swap: "outerHTML" });
    });
  });

  // The Undo offer goes away by itself after UNDO_SECONDS.
  let noticeTimer = null;
  document.body.addEventListener("htmx:load", function (event) {
    if (event.detail.elt.id !== "notice" || !event.detail.elt.children.length) return;
    clearTimeout(noticeTimer);
    const seconds = Number(document.body.dataset.undoSeconds || 10);
    noticeTimer = setTimeout(() => { document.getElementById("notice").replaceChildren(); }, seconds * 1000);
  });

  // A session that ended (a 401, a 403 or a refused CSRF token) answers htmx with a banner aimed at
  // #session-ended (HX-Retarget). htmx swaps no 4xx by itself: this one is let through, once, and
  // nothing else that is a whole page is ever swapped into a part of one.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    const detail = event.detail;
    if (detail.target && detail.target.id === "session-ended") {
      keepReasons();
      detail.isError = false;
      // Shown already: the poll would announce it again every few seconds. Only the user's own
      // request (opening another article) changes where its link comes back to.
      const shown = detail.target.querySelector("a");
      detail.shouldSwap = !shown;
      const fresh = new DOMParser().parseFromString(detail.serverResponse, "text/html").querySelector("p");
      if (shown && !fresh.hasAttribute("data-passive")) shown.href = fresh.querySelector("a").href;
    } else if (detail.shouldSwap && detail.target !== document.body && /^\s*<!doctype/i.test(detail.serverResponse)) {
      detail.shouldSwap = false;
    }
  });

  // A reason typed when the session ended waits in this tab's sessionStorage (not in the URL: it
  // would land in logs and history) and goes back into the same form when it shows again.
  const REASON_KEY = "copydesk-reason:";

  function keepReasons() {
    document.querySelectorAll('form[action] input[name="reason"]').forEach(function (input) {
      if (input.value.trim()) sessionStorage.setItem(REASON_KEY + input.form.getAttribute("action"), input.value);
    });
  }

  function restoreReasons(root) {
    root.querySelectorAll('form[action] input[name="reason"]').forEach(function (input) {
      const key = REASON_KEY + input.form.getAttribute("action");
      const kept = sessionStorage.getItem(key);
      if (kept === null) return;
      if (!input.value) input.value = kept;
      sessionStorage.removeItem(key);
    });
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest("#session-ended a")) keepReasons();
  });
  document.body.addEventListener("htmx:load", function (event) { restoreReasons(event.detail.elt); });

  // A filter's message arrives out of band beside its field: the field says whether it is invalid too.
  document.body.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll('form.filters [aria-describedby^="error-"]').forEach(function (field) {
      const slot = document.getElementById(field.getAttribute("aria-describedby"));
      if (slot && slot.textContent.trim()) field.setAttribute("aria-invalid", "true");
      else field.removeAttribute("aria-invalid");
    });
  });
})();
