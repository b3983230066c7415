// Optional help for the review page: highlights, live checks, keyboard shortcuts.
// Everything here also works without it through plain links and forms.
(function () {
  "use strict";

  function showBox(id, scroll) {
    document.querySelectorAll(".box.active, .field.active").forEach(function (el) {
      el.classList.remove("active");
    });
    var box = id && document.getElementById(id);
    if (!box) return;
    box.classList.add("active");
    document.querySelectorAll('.field[data-box="' + id + '"]').forEach(function (el) {
      el.classList.add("active");
    });
    if (scroll) box.scrollIntoView({ block: "center", behavior: "smooth" });
  }

  function fieldOf(el) { return el.closest ? el.closest(".field[data-box]") : null; }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a.source[data-box]");
    if (link) {
      event.preventDefault();
      history.replaceState(null, "", link.getAttribute("href"));
      showBox(link.dataset.box, true);
      return;
    }
    var field = fieldOf(event.target);
    if (field) showBox(field.dataset.box, true);
  });
  document.addEventListener("focusin", function (event) {
    var field = fieldOf(event.target);
    if (field) showBox(field.dataset.box, true);
  });
  if (location.hash.indexOf("#box-") === 0) showBox(location.hash.slice(1), false);

  function getJSON(url, done) {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) done(data); })
      .catch(function () {});
  }

  function debounce(fn, ms) {
    var timer;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  document.querySelectorAll("input.code-input").forEach(function (input) {
    var out = input.parentNode.querySelector(".code-facts");
    input.addEventListener("input", debounce(function () {
      var typed = input.value.trim();
      if (!typed) { out.textContent = ""; return; }
      getJSON("/api/codes/" + encodeURIComponent(typed), function (f) {
        out.textContent = "";
        if (!f.exists) {
          var bad = document.createElement("strong");
          bad.className = "bad";
          bad.textContent = f.code + " is not an ICD-10-CM code";
          out.appendChild(bad);
          return;
        }
        out.appendChild(document.createTextNode(
          f.code + ": " + f.description + " · " + (f.billable ? "billable" : "not billable") +
          " · " + (f.category || "no category") + " · "));
        var verdict = document.createElement("strong");
        verdict.textContent = f.reimbursable ? "reimbursable" : "not reimbursable";
        if (!f.reimbursable) verdict.className = "bad";
        out.appendChild(verdict);
      });
    }, 250));
  });

  ["frequency", "duration"].forEach(function (key) {
    var input = document.getElementById("f-" + key);
    var out = document.getElementById(key + "-normal");
    if (!input || !out) return;
    input.addEventListener("input", debounce(function () {
      getJSON("/api/timing?" + key + "=" + encodeURIComponent(input.value), function (a) {
        var got = a[key];
        out.classList.toggle("bad", !got.ok);
        out.textContent = got.ok ? got.words : got.error;
      });
    }, 250));
  });

  // The decision the corrections would get, recomputed by the server as you type.
  var correct = document.getElementById("correct");
  var preview = document.getElementById("preview");
  if (correct && preview) {
    correct.addEventListener("input", debounce(function () {
      fetch(correct.action.replace(/\/correct$/, "/preview"), {
        method: "POST", credentials: "same-origin", body: new FormData(correct)
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (d) {
        if (!d) return;
        preview.textContent = "";
        if (!d.ok) { preview.className = "preview error"; preview.textContent = d.error; return; }
        preview.className = "preview " + d.status;
        preview.appendChild(document.createTextNode("If saved: "));
        var s = document.createElement("strong");
        s.textContent = d.status.replace("_", " ");
        preview.appendChild(s);
        if (d.reasons.length) preview.appendChild(document.createTextNode(" · " + d.reasons.join("; ")));
      }).catch(function () {});
    }, 400));
  }

  // Keyboard shortcuts, never while typing in a field.
  var rows = Array.prototype.slice.call(document.querySelectorAll("#list tbody tr"));
  var current = -1;
  function select(i) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach(function (row, n) { row.classList.toggle("selected", n === current); });
    rows[current].scrollIntoView({ block: "nearest" });
  }
  function follow(id) { var a = document.getElementById(id); if (a) location.href = a.href; }

  document.addEventListener("keydown", function (event) {
    var t = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (t && (t.isContentEditable || /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(t.tagName))) {
      if (event.key === "Escape" && t.blur) t.blur();
      return;
    }
    var key = event.key;
    if (key === "/") { var s = document.getElementById("search-box"); if (s) { event.preventDefault(); s.focus(); } return; }
    if (rows.length) {
      if (key === "j") select(current + 1);
      else if (key === "k") select(current - 1);
      else if (key === "Enter" && current >= 0) rows[current].querySelector("a.open").click();
      return;
    }
    if (key === "j") follow("next");
    else if (key === "k") follow("prev");
    else if (key === "a") { var f = document.getElementById("accept-form"); if (f && confirm("Accept this referral?")) f.requestSubmit(); }
    else if (key === "r") { var r = document.getElementById("reject-reason"); if (r) { event.preventDefault(); r.focus(); } }
    else if (key === "b") { var q = document.getElementById("requeue-form"); if (q && confirm("Send it back to the queue?")) q.requestSubmit(); }
  });
})();
