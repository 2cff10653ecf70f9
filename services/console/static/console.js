// The console's one script: the inbox's live rows and countdowns, the region picker and the
// inferred category on the operator desk. Vanilla JS, served by the console itself.
(function () {
  "use strict";

  function left(due, lang) {
    var ms = Date.parse(due) - Date.now();
    var late = ms < 0;
    ms = Math.abs(ms);
    var d = Math.floor(ms / 864e5), h = Math.floor(ms / 36e5) % 24, m = Math.floor(ms / 6e4) % 60,
      s = Math.floor(ms / 1e3) % 60;
    var zh = lang !== "en";
    var text = (d ? d + (zh ? "天" : "d ") : "") + h + (zh ? "时" : "h ") + m + (zh ? "分" : "m ") +
      s + (zh ? "秒" : "s");
    return { text: late ? (zh ? "超时 " : "late ") + text : text, late: late };
  }

  function tick() {
    var lang = document.documentElement.lang;
    document.querySelectorAll("[data-due]").forEach(function (cell) {
      var due = cell.getAttribute("data-due");
      if (!due) { return; }
      var l = left(due, lang);
      cell.textContent = l.text;
      cell.classList.toggle("late", l.late);
    });
  }

  function live(body) {
    var src = body.getAttribute("data-src");
    var every = parseInt(body.getAttribute("data-every"), 10) || 1000;
    var busy = false;
    setInterval(function () {
      if (busy) { return; }
      busy = true;
      fetch(src, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html !== null) { body.innerHTML = html; tick(); }
        })
        .catch(function () { /* the next poll tries again */ })
        .finally(function () { busy = false; });
    }, every);
  }

  function regionPicker(picker) {
    var target = document.getElementById("region_code");
    picker.addEventListener("change", function (event) {
      var select = event.target;
      if (!select.classList.contains("region-level")) { return; }
      var depth = parseInt(select.id.split("-")[1], 10);
      // drop the finer levels of an earlier choice
      picker.querySelectorAll(".region-level").forEach(function (s) {
        if (parseInt(s.id.split("-")[1], 10) > depth) { s.parentNode.remove(); }
      });
      var code = select.value;
      target.value = code;
      target.dispatchEvent(new Event("change"));
      if (!code) { return; }
      fetch("/desk/regions/" + encodeURIComponent(code), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (region) {
          if (!region || !region.children || !region.children.length) { return; }
          var wrap = document.createElement("div");
          var id = "region-" + (depth + 1);
          var label = document.createElement("label");
          label.setAttribute("for", id);
          label.textContent = region.name;
          var next = document.createElement("select");
          next.id = id;
          next.className = "region-level";
          var first = document.createElement("option");
          first.value = "";
          first.textContent = "—";
          next.appendChild(first);
          region.children.forEach(function (c) {
            var o = document.createElement("option");
            o.value = c.code;
            o.textContent = c.name;
            next.appendChild(o);
          });
          wrap.appendChild(label);
          wrap.appendChild(next);
          picker.appendChild(wrap);
        })
        .catch(function () { /* the code field still takes a typed code */ });
    });
  }

  function inferCategory(text, list, hint, field) {
    var items = Array.prototype.map.call(list.options, function (o) {
      var kws = (o.getAttribute("data-keywords") || "").split("|").filter(Boolean);
      return { value: o.value, keywords: kws };
    });
    text.addEventListener("input", function () {
      // as routing infers it: the longest keyword found in the text wins
      var best = null, length = 0;
      items.forEach(function (item) {
        item.keywords.forEach(function (k) {
          if (k.length > length && text.value.indexOf(k) >= 0) { best = item; length = k.length; }
        });
      });
      hint.textContent = best ? hint.getAttribute("data-label") + best.value : "";
      if (best && !field.dataset.touched && field.value !== best.value) {
        field.value = best.value;
        field.dispatchEvent(new Event("change"));
      }
    });
    field.addEventListener("input", function () { field.dataset.touched = "1"; });
  }

  function nearby(box, category, region) {
    // before saving: open issues of the same category at that place (likely duplicates)
    var timer = null;
    function look() {
      var url = box.getAttribute("data-src") + "?category=" + encodeURIComponent(category.value) +
        "&region_code=" + encodeURIComponent(region.value);
      fetch(url, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) { box.innerHTML = html; } })
        .catch(function () { /* a hint only */ });
    }
    function later() { clearTimeout(timer); timer = setTimeout(look, 300); }
    [category, region].forEach(function (field) {
      field.addEventListener("input", later);
      field.addEventListener("change", later);
    });
  }

  function mapPicker(map, target) {
    // a township cell of the city map fills the place field
    map.addEventListener("click", function (event) {
      var cell = event.target.closest ? event.target.closest(".map-pick") : null;
      if (!cell) { return; }
      event.preventDefault();
      target.value = cell.getAttribute("data-code");
      target.dispatchEvent(new Event("change"));
      map.querySelectorAll(".map-pick").forEach(function (c) { c.removeAttribute("aria-current"); });
      cell.setAttribute("aria-current", "true");
      var said = document.getElementById("map-picked");
      if (said) { said.textContent = said.getAttribute("data-label") + cell.getAttribute("aria-label"); }
      target.focus();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
    var rows = document.getElementById("inbox-rows");
    if (rows) { live(rows); }
    var picker = document.getElementById("region-picker");
    if (picker) { regionPicker(picker); }
    var pickMap = document.getElementById("map-pick"), place = document.getElementById("region_code");
    if (pickMap && place) { mapPicker(pickMap, place); }
    var text = document.getElementById("text"), list = document.getElementById("categories"),
      hint = document.getElementById("inferred"), field = document.getElementById("category");
    if (text && list && hint && field) { inferCategory(text, list, hint, field); }
    var box = document.getElementById("nearby"), region = document.getElementById("region_code");
    if (box && field && region) { nearby(box, field, region); }
  });
})();
