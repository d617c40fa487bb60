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

  // The version a row shows, from its checkbox's "id:version" (-1 for a row without one).
  const rowVersion = (row) => { const box = row.querySelector('input[name="article"]'); return box ? Number(box.value.split(":")[1]) : -1; };

  // A decision by keyboard: on the open panel's article, or else on the focused row, with the
  // same request the panel's form sends (the server answers a row with the row).
  function decide(action) {
    const panel = document.querySelector("#panel[data-article]");
    const row = focusedRow();
    if (panel && (!row || articleId(row) === panel.dataset.article)) {
      click(panel.querySelector('[data-action="' + action + '"]'));
    } else if (row && row.classList.contains("status-pending")) {
      htmx.ajax("POST", row.querySelector("a[data-open]").getAttribute("href") + "/" + action, {
        source: document.body, target: row, swap: "outerHTML", values: { version: rowVersion(row), answer: "row" },
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
    r: () => startReject(),
    h: () => { const heat = document.querySelector('#panel input[name="heat"]'); if (heat) heat.focus(); },
    x: () => { const box = focusedRow() && focusedRow().querySelector('input[type="checkbox"]'); if (box) box.click(); },
    u: () => click(document.querySelector("#notice [data-undo] button")),
    m: () => mergeSuggestion(),
    "/": () => { const search = document.getElementById("q"); if (search) { search.focus(); search.select(); } },
    "?": () => toggleShortcuts(),
  };

  // `r` puts the cursor in the open article's reject reason (opening the focused row's article first):
  // then a digit 1–9 rejects with that listed reason, Enter with the text typed (or none), and Esc
  // leaves it. A digit is a listed reason only straight after `r`; typed after text, it is text.
  let reasonArmed = null;
  let rejectWhenOpen = null;

  function startReject() {
    const panel = document.querySelector("#panel[data-article]");
    const row = focusedRow();
    if (panel && (!row || articleId(row) === panel.dataset.article)) {
      armReason(panel);
    } else if (row && row.classList.contains("status-pending")) {
      rejectWhenOpen = articleId(row);
      openArticle(row);
    }
  }

  function armReason(panel) {
    const input = panel.querySelector("[data-reject-reason]");
    if (!input) return;
    input.focus();
    reasonArmed = input;
  }

  document.body.addEventListener("htmx:load", function (event) {
    const panel = event.detail.elt;
    if (panel.id !== "panel" || !rejectWhenOpen) return;
    if (panel.dataset.article === rejectWhenOpen) armReason(panel);
    rejectWhenOpen = null;
  });

  document.addEventListener("keydown", function (event) {
    const input = event.target;
    if (input !== reasonArmed || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") {
      event.preventDefault();
      input.blur();
    } else if (/^[1-9]$/.test(event.key) && input.value === "") {
      const choices = input.form.querySelectorAll('select[name="listed_reason"] option:not([value=""])');
      const choice = choices[Number(event.key) - 1];
      if (!choice) return;
      event.preventDefault();
      choice.selected = true;
      click(input.form.querySelector('[data-action="reject"]'));
    } else if (event.key.length === 1) {
      reasonArmed = null;
    }
  });

  document.addEventListener("focusout", function (event) {
    if (event.target === reasonArmed) reasonArmed = null;
  });

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

  // Heat: one save per edit. Enter in the box both changes and submits the form, and a click on
  // Set heat follows the box's change: a save while one is on its way, or of the value already
  // saved, is dropped (htmx has stopped the plain form already, so nothing leaves the page).
  document.body.addEventListener("htmx:confirm", function (event) {
    const form = event.detail.elt;
    if (!(form instanceof HTMLFormElement) || !form.matches("[data-heat]")) return;
    const value = form.querySelector('input[name="heat"]').value.trim();
    const unchanged = value === form.dataset.heatSaved && !form.querySelector(".error");
    if (form.classList.contains("htmx-request") || unchanged) event.preventDefault();
  });

  // The poll asks for everyone's changes to articles up to the newest one listed (newer ones were
  // imported since and are not in the list): however long "Load more" made it, the URL stays short.
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt.id === "poller") {
      const ids = rows().map((row) => Number(articleId(row)));
      if (ids.length) event.detail.parameters.upto = Math.max.apply(null, ids);
    }
  });

  // Opening an article keeps the queue's filters in its address (/articles/5?q=…), so that a reload or
  // a shared link shows the same queue with the article open. The filter form names them, as the
  // server knows them (QueueFilters): a page cursor is none.
  document.body.addEventListener("htmx:configRequest", function (event) {
    const detail = event.detail;
    const form = document.getElementById("filters");
    if (detail.verb !== "get" || !form || !/\/articles\/\d+$/.test(detail.path)) return;
    const names = form.dataset.filterNames.split(" ");
    new URLSearchParams(location.search).forEach(function (value, name) {
      if (names.includes(name)) detail.parameters[name] = value;
    });
  });

  // The first pending row below the article `id` in the list the user sees, if any.
  function nextPendingRow(id) {
    const all = rows();
    const row = document.getElementById("article-" + id);
    return all.slice(row ? all.indexOf(row) + 1 : 0).find((each) => each.classList.contains("status-pending"));
  }

  // One request per decision: every action's answer carries the counts of the queue on screen (its
  // filter form, as `filters`), and a decision in the panel names the next pending article
  // (`open_next`), whose panel, claimed by the server, comes back instead of the decided one's.
  document.body.addEventListener("htmx:configRequest", function (event) {
    const detail = event.detail;
    const filters = document.getElementById("filters");
    if (filters && (detail.verb === "post" || detail.elt.id === "poller")) {
      detail.parameters.filters = new URLSearchParams(new FormData(filters)).toString();
    }
    const decided = detail.verb === "post" && /\/articles\/(\d+)\/(approve|reject)$/.exec(detail.path);
    const panel = document.querySelector("#panel[data-article]");
    if (!decided || !panel || panel.dataset.article !== decided[1] || !panel.contains(detail.elt)) return;
    const next = nextPendingRow(decided[1]);
    if (next) detail.parameters.open_next = articleId(next);
  });

  // A form anywhere in the panel that acts on the panel's article sends the version its moderation
  // block shows: every change's answer brings that block back, so the related list and the other
  // parts need not be rendered again only for the version their forms carry. A conflict's answer
  // shows the current state and refreshes the rest, as before.
  document.body.addEventListener("htmx:configRequest", function (event) {
    const detail = event.detail;
    const panel = document.querySelector("#panel[data-article]");
    if (detail.verb !== "post" || detail.parameters.version === undefined || !panel || !panel.contains(detail.elt)) return;
    if (!detail.path.startsWith("/articles/" + panel.dataset.article + "/")) return;
    const block = document.getElementById("moderation-" + panel.dataset.article);
    if (block && block.dataset.version) detail.parameters.version = block.dataset.version;
  });

  // An undo from the notice (or a decision on a row) names the article the panel shows, as `panel`:
  // when it is the changed one, its panel comes back with the answer instead of fetching itself again.
  document.body.addEventListener("htmx:configRequest", function (event) {
    const panel = document.querySelector("#panel[data-article]");
    if (panel && event.detail.verb === "post") event.detail.parameters.panel = panel.dataset.article;
  });

  // After a decision the focus goes on to the next pending row (its panel came with the answer), so
  // the queue can be worked by keyboard alone. htmx re-fires afterRequest on a connected element when
  // the requester was swapped away.
  document.body.addEventListener("htmx:afterRequest", function (event) {
    const config = event.detail.requestConfig;
    const decided = config && /\/articles\/(\d+)\/(approve|reject)$/.exec(config.path);
    if (!decided || event.detail.xhr.status !== 200 || config.verb !== "post") return;
    const next = nextPendingRow(decided[1]);
    if (next) next.focus();
  });

  // Double-click guard: the decision buttons are disabled while a decision is on its way, for a
  // moment after its answer, and for a moment after the panel shows another article, so that a
  // second click or key press never decides what has just opened under it. It watches requests and
  // the page itself, so it holds whatever shape the decision's answer takes.
  const DECISION_BUTTONS = ["approve", "reject", "reopen", "mark-duplicate"].map((name) => '[data-action="' + name + '"]').join(", ");
  const DECISION_PATH = /\/articles\/\d+\/(approve|reject|reopen|duplicate-of\/\d+)$/;
  const DECISION_HOLD_MS = 400;
  let decisionsInFlight = 0;
  let decisionsHeldUntil = 0;
  let decisionHoldTimer = null;
  let panelArticle = (document.querySelector("#panel[data-article]") || { dataset: {} }).dataset.article || null;

  function decisionsHeld() {
    return decisionsInFlight > 0 || performance.now() < decisionsHeldUntil;
  }

  // Disables the decision buttons while held, and enables again only those it disabled.
  function applyDecisionHold() {
    const held = decisionsHeld();
    document.querySelectorAll(DECISION_BUTTONS).forEach(function (button) {
      if (held && !button.disabled) {
        button.disabled = true;
        button.dataset.held = "";
      } else if (!held && "held" in button.dataset) {
        button.disabled = false;
        delete button.dataset.held;
      }
    });
  }

  function holdDecisions() {
    decisionsHeldUntil = Math.max(decisionsHeldUntil, performance.now() + DECISION_HOLD_MS);
    clearTimeout(decisionHoldTimer);
    decisionHoldTimer = setTimeout(applyDecisionHold, decisionsHeldUntil - performance.now() + 1);
    applyDecisionHold();
  }

  // A decision made in the panel holds the others a moment after its answer too (the panel's buttons
  // change under the cursor: Approve becomes Return to pending); one made on a row by key does not,
  // so that `a`, `j`, `a` down the list is never swallowed.
  const panelDecisions = new WeakSet();
  document.body.addEventListener("htmx:beforeSend", function (event) {
    const config = event.detail.requestConfig;
    if (!DECISION_PATH.test(config.path)) return;
    if (event.detail.elt.closest && event.detail.elt.closest("#panel")) panelDecisions.add(config);
    decisionsInFlight += 1;
    applyDecisionHold();
  });

  document.body.addEventListener("htmx:afterRequest", function (event) {
    const config = event.detail.requestConfig;
    if (!config || !DECISION_PATH.test(config.path)) return;
    decisionsInFlight = Math.max(0, decisionsInFlight - 1);
    if (panelDecisions.has(config)) holdDecisions();
    else applyDecisionHold();
  });

  // Runs before any further input is handled: new buttons swapped in while held are disabled at once.
  new MutationObserver(function () {
    const panel = document.querySelector("#panel[data-article]");
    const article = panel ? panel.dataset.article : null;
    if (article !== panelArticle) {
      panelArticle = article;
      if (article) holdDecisions();
    } else if (decisionsHeld()) {
      applyDecisionHold();
    }
  }).observe(document.body, { childList: true, subtree: true });

  // The keys too: `a` and `r` do nothing while decisions are held.
  document.addEventListener("keydown", function (event) {
    if (!["a", "r"].includes(event.key) || event.ctrlKey || event.metaKey || event.altKey || isTyping(event)) return;
    if (!decisionsHeld()) return;
    event.preventDefault();
    event.stopImmediatePropagation();
  }, true);

  // The poll's answer carries every row changed since the last poll (the poller also asks at once
  // on `rows-stale`): each one the list shows at an older version is swapped in place, focus kept;
  // rows the list does not show, or shows as they are or newer, are left alone (ticks included): a poll
  // sent before a change made here may answer after it, and must not roll the row back.
  function swapChangedRows(template) {
    Array.from(template.content.querySelectorAll("tr.row")).forEach(function (fresh) {
      const row = document.getElementById(fresh.id);
      if (!row || !row.closest("#queue-rows") || !(rowVersion(fresh) > rowVersion(row))) return;
      const focused = row === document.activeElement;
      row.replaceWith(fresh);
      htmx.process(fresh);
      if (focused) fresh.focus();
    });
    template.remove();
  }

  document.body.addEventListener("htmx:load", function (event) {
    const template = event.detail.elt.id === "poller" && event.detail.elt.querySelector("template[data-changed-rows]");
    if (template) swapChangedRows(template);
  });

  // Rows swapped in out of band keep the keyboard focus they had; a bulk decision's answer (or its
  // undo's) carries its rows, not the panel: the open panel refreshes if its article was among them.
  let focusedRowId = null;
  const swappedRowIds = new Set();
  document.body.addEventListener("htmx:oobBeforeSwap", function (event) {
    const target = event.detail.target;
    if (target && target.matches("#queue-rows tr.row") && target === document.activeElement) focusedRowId = target.id;
  });
  document.body.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.detail.target && event.detail.target.id) swappedRowIds.add(event.detail.target.id);
    const row = focusedRowId && document.getElementById(focusedRowId);
    focusedRowId = null;
    if (row) row.focus();
  });

  // After a bulk decision every tick clears (the rows it changed came back unticked already), and
  // so does its reason, which would otherwise ride along with the next Reject selected.
  document.body.addEventListener("htmx:afterRequest", function (event) {
    const elt = event.detail.elt;
    const bulk = elt.id === "bulk";
    const batchUndo = elt.matches("[data-undo]") && /\/batches\//.test(event.detail.requestConfig.path);
    if ((bulk || batchUndo) && event.detail.successful) {
      if (bulk) {
        document.querySelectorAll('input[form="bulk"][name="article"]:checked').forEach((box) => { box.checked = false; });
        elt.querySelector('input[name="reason"]').value = "";
      }
      lastChecked = null;
      const panel = document.querySelector("#panel[data-article]");
      if (panel && swappedRowIds.has("article-" + panel.dataset.article)) htmx.trigger(document.body, "panel-stale-" + panel.dataset.article);
    }
    swappedRowIds.clear();
  });

  // Compact rows: the queue's table follows the toggle's answer (the rows' markup stays as it is).
  document.body.addEventListener("rows-density", function (event) {
    document.querySelectorAll("table.queue").forEach((table) => table.classList.toggle("compact", event.detail.compact));
  });

  // The Undo offer goes away by itself after UNDO_SECONDS.
  let noticeTimer = null;
  document.body.addEventListener("htmx:load", function (event) {
    if (event.detail.elt.id !== "notice" || !event.detail.elt.children.length) return;
    clearTimeout(noticeTimer);
    const seconds = Number(document.body.dataset.undoSeconds || 10);
    noticeTimer = setTimeout(() => { document.getElementById("notice").replaceChildren(); }, seconds * 1000);
  });

  // Narrow screens show the open article as a drawer over the list (app.css, only with this class);
  // its Close button and Escape put the empty panel back, the queue's address, and focus on the row.
  document.documentElement.classList.add("js");
  const emptyPanel = document.querySelector(".panel-slot #panel:not([data-article])");
  const blankPanel = emptyPanel ? emptyPanel.cloneNode(true) : null;
  const onArticle = () => location.pathname.startsWith("/articles/");
  let queueUrl = onArticle() ? null : location.href;

  function rememberQueueUrl() {
    if (!onArticle()) queueUrl = location.href;
  }

  // Where the queue is when the page was opened on an article: its filters, as the filter form sends them.
  function filtersUrl() {
    const form = document.getElementById("filters");
    if (!form) return "/";
    const query = new URLSearchParams();
    new FormData(form).forEach((value, name) => { if (value) query.append(name, value); });
    return form.getAttribute("action") + (query.toString() ? "?" + query : "");
  }

  function drawerOpen() {
    const slot = document.querySelector(".panel-slot");
    return Boolean(slot && slot.querySelector("#panel[data-article]") && getComputedStyle(slot).position === "fixed");
  }

  function closeArticle() {
    const panel = document.querySelector(".panel-slot #panel[data-article]");
    if (!panel) return;
    let empty = blankPanel && blankPanel.cloneNode(true);
    if (!empty) {
      empty = document.createElement("section");
      Object.assign(empty, { id: "panel", className: "panel empty" });
      empty.setAttribute("aria-label", "Article");
    }
    panel.replaceWith(empty);
    history.replaceState({ htmx: true }, "", queueUrl || filtersUrl());
    const row = document.getElementById("article-" + panel.dataset.article);
    if (row) row.focus();
  }

  document.body.addEventListener("htmx:pushedIntoHistory", rememberQueueUrl);
  document.body.addEventListener("htmx:replacedInHistory", rememberQueueUrl);
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-drawer-close]")) closeArticle();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || isTyping(event) || event.target.closest("dialog") || !drawerOpen()) return;
    event.preventDefault();
    closeArticle();
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
    // On a narrow screen the refused field may be folded away under "Filters": unfold it.
    document.querySelectorAll("details.filter-fold:not([open])").forEach(function (fold) {
      if (fold.querySelector('[aria-invalid="true"]')) fold.open = true;
    });
  });
})();
