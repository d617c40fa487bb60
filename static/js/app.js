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
})();
