// Search-as-you-type for the search box: an ARIA combobox over /api/suggest.
// Without this script the box is a plain form (GET /?q=...), and everything else works.
(function () {
  "use strict";
  var input = document.getElementById("q");
  var list = document.getElementById("suggestions");
  var status = document.getElementById("suggest-status");
  if (!input || !list || !window.fetch) return;
  var DELAY = 120;      // ms of quiet typing before asking
  var timer = null;
  var active = -1;
  var items = [];
  var asked = 0;        // answers to older requests are dropped

  function close() {
    list.hidden = true;
    list.textContent = "";
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    items = [];
    active = -1;
  }

  function show(suggestions) {
    list.textContent = "";
    items = suggestions;
    active = -1;
    input.removeAttribute("aria-activedescendant");
    suggestions.forEach(function (s, i) {
      var li = document.createElement("li");
      li.id = "suggestion-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      var code = document.createElement("span");
      code.className = "code";
      code.textContent = s.code;
      var text = document.createElement("span");
      text.className = "text";
      text.textContent = s.kind === "code" ? s.title : s.text;
      var kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = s.code_system;
      li.appendChild(code);
      li.appendChild(text);
      li.appendChild(kind);
      li.addEventListener("mousedown", function (event) { event.preventDefault(); });
      li.addEventListener("click", function () { open(i); });
      list.appendChild(li);
    });
    var open_ = suggestions.length > 0;
    list.hidden = !open_;
    input.setAttribute("aria-expanded", open_ ? "true" : "false");
    status.textContent = suggestions.length ? suggestions.length + " suggestions; up and down to choose, Enter to open." : "No suggestions.";
  }

  function highlight(index) {
    var options = list.children;
    if (active >= 0 && options[active]) options[active].setAttribute("aria-selected", "false");
    active = index;
    if (active >= 0 && options[active]) {
      options[active].setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", options[active].id);
      options[active].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function open(index) {
    var s = items[index];
    if (s) window.location.href = "/code/" + encodeURIComponent(s.code);
  }

  function ask() {
    var q = input.value.trim();
    if (!q) { close(); return; }
    var mine = ++asked;
    fetch("/api/suggest?limit=8&q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
      .then(function (data) { if (mine === asked && document.activeElement === input) show(data.suggestions || []); })
      .catch(function () { if (mine === asked) close(); });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, DELAY);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" && items.length) {
      event.preventDefault();
      highlight(active + 1 < items.length ? active + 1 : 0);
    } else if (event.key === "ArrowUp" && items.length) {
      event.preventDefault();
      highlight(active > 0 ? active - 1 : items.length - 1);
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      open(active);
    } else if (event.key === "Escape") {
      if (!list.hidden) { event.preventDefault(); }
      clearTimeout(timer);
      asked++;
      close();
    } else if (event.key === "Enter") {
      clearTimeout(timer);
      asked++;
      close();  // submit the form: a plain search
    }
  });
  input.addEventListener("blur", function () { setTimeout(close, 150); });
})();
