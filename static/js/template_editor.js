/* Letter template editor: 插入 puts a variable at the cursor; 修改后自动预览 re-submits the preview a
   moment after typing stops. The page works without this file (预览 is a plain form button). */
(function () {
  "use strict";

  var AUTO_DELAY_MS = 1200;

  function insertAtCursor(area, text) {
    area.focus();
    // execCommand keeps the browser's undo history (Ctrl+Z undoes the insertion); setRangeText otherwise.
    var done = false;
    try { done = document.execCommand("insertText", false, text); } catch (e) { done = false; }
    if (!done) {
      var start = area.selectionStart, end = area.selectionEnd;
      area.setRangeText(text, start, end, "end");
      area.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }

  function setup() {
    var area = document.getElementById("source");
    var form = document.getElementById("template-form");
    var button = document.getElementById("preview");
    if (!area || !form || !button) return;

    Array.prototype.forEach.call(document.querySelectorAll("[data-insert]"), function (b) {
      b.addEventListener("click", function () { insertAtCursor(area, b.getAttribute("data-insert")); });
    });

    var auto = document.getElementById("preview-auto");
    if (!auto) return;
    auto.closest("label").hidden = false;
    var timer = null;
    function preview() {
      timer = null;
      if (form.requestSubmit) form.requestSubmit(button); else button.click();
    }
    function later() {
      if (!auto.checked) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(preview, AUTO_DELAY_MS);
    }
    area.addEventListener("input", later);
    ["preview_case", "preview_number"].forEach(function (id) {
      var el = document.getElementById(id);
      if (el) el.addEventListener("change", later);
    });
    auto.addEventListener("change", function () { if (auto.checked) preview(); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
