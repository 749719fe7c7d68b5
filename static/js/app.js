/* OGI Desk: small progressive enhancements. Every form works without this file. */
(function () {
  "use strict";

  // data-show-if="field=v1,v2": show the block only while that field has one of the values.
  // Hidden inputs are disabled so they are not submitted.
  function setupShowIf(root) {
    var blocks = root.querySelectorAll("[data-show-if]");
    Array.prototype.forEach.call(blocks, function (block) {
      var rule = block.getAttribute("data-show-if").split("=");
      var form = block.closest("form");
      if (!form || rule.length !== 2) return;
      var source = form.elements[rule[0]];
      if (!source) return;
      var values = rule[1].split(",");
      // data-required-for="v1,v2": required (mark and attribute) only for those values of the same field.
      var reqAttr = block.getAttribute("data-required-for");
      var requiredFor = reqAttr === null ? null : (reqAttr ? reqAttr.split(",") : []);
      function update() {
        var show = values.indexOf(source.value) !== -1 || block.classList.contains("has-error");
        block.hidden = !show;
        var req = requiredFor !== null && requiredFor.indexOf(source.value) !== -1;
        Array.prototype.forEach.call(block.querySelectorAll("input, select, textarea"), function (el) {
          el.disabled = !show;
          if (requiredFor !== null) el.required = req;
        });
        if (requiredFor !== null) {
          Array.prototype.forEach.call(block.querySelectorAll(".req"), function (m) { m.hidden = !req; });
        }
        // Row buttons are enabled by the row editor, not here.
        if (show) Array.prototype.forEach.call(block.querySelectorAll("[data-row-op]"), function (b) {
          b.disabled = false;
        });
        if (block.hasAttribute("data-rows") && show) renumberRows(block);
      }
      source.addEventListener("change", update);
      update();
    });
  }

  // data-rows="name": rows of a list input (name-0-key, name-1-key …). The buttons post a form_op that the
  // server applies without saving; with this file they act in place and the rows are renumbered.
  function rowItems(box) {
    return Array.prototype.slice.call(box.querySelectorAll("[data-row]"));
  }

  function renumberRows(box) {
    var name = box.getAttribute("data-rows");
    var re = new RegExp("^" + name + "-\\d+-");
    var rows = rowItems(box);
    rows.forEach(function (row, i) {
      Array.prototype.forEach.call(row.querySelectorAll("[name], [id], label[for]"), function (n) {
        ["name", "id", "for"].forEach(function (a) {
          var v = n.getAttribute(a);
          if (v && re.test(v)) n.setAttribute(a, v.replace(re, name + "-" + i + "-"));
        });
      });
      var no = row.querySelector(".row-no");
      if (no) no.textContent = String(i + 1);
      Array.prototype.forEach.call(row.querySelectorAll("[data-row-op]"), function (b) {
        var op = b.getAttribute("data-row-op");
        b.value = name + ":" + op + ":" + i;
        b.disabled = box.hidden || (op === "up" && i === 0) || (op === "down" && i === rows.length - 1);
      });
    });
  }

  function clearRow(row) {
    Array.prototype.forEach.call(row.querySelectorAll("input, select, textarea"), function (n) {
      if (n.tagName === "SELECT") n.selectedIndex = 0; else n.value = "";
    });
  }

  function setupRows(root) {
    Array.prototype.forEach.call(root.querySelectorAll("[data-rows]"), function (box) {
      var list = box.querySelector(".row-list");
      box.addEventListener("click", function (ev) {
        var b = ev.target.closest("[data-row-op]");
        if (!b || !box.contains(b)) return;
        ev.preventDefault();
        var op = b.getAttribute("data-row-op");
        var rows = rowItems(box);
        var row = b.closest("[data-row]");
        var focus = null;
        if (op === "add") {
          var copy = rows[rows.length - 1].cloneNode(true);
          clearRow(copy);
          copy.classList.remove("has-error");
          list.appendChild(copy);
          focus = copy;
        } else if (op === "remove") {
          if (rows.length === 1) clearRow(row); else row.parentNode.removeChild(row);
          focus = list.querySelector("[data-row]");
        } else if (op === "up" && row.previousElementSibling) {
          list.insertBefore(row, row.previousElementSibling);
          focus = row;
        } else if (op === "down" && row.nextElementSibling) {
          list.insertBefore(row.nextElementSibling, row);
          focus = row;
        }
        renumberRows(box);
        if (focus) {
          var target = op === "up" || op === "down" ? focus.querySelector('[data-row-op="' + op + '"]') : null;
          if (!target || target.disabled) target = focus.querySelector("input, select, textarea");
          if (target) target.focus();
        }
      });
      renumberRows(box);
    });
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  function caseLink(row) {
    var a = el("a", row.number);
    a.href = row.url;
    a.target = "_blank";
    return a;
  }

  function renderHints(box, data) {
    box.textContent = "";
    var p = el("p");
    p.appendChild(document.createTextNode("该申请人本月已有申请："));
    p.appendChild(el("span", String(data.month_count), "count"));
    p.appendChild(document.createTextNode(" 件"));
    box.appendChild(p);
    if (data.month_cases.length) {
      var ul = el("ul", "", "plain");
      data.month_cases.forEach(function (c) {
        var li = el("li");
        li.appendChild(caseLink(c));
        li.appendChild(document.createTextNode(" " + c.received_on + " " + c.description));
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    box.appendChild(el("h3", "可能重复的申请"));
    if (!data.possible_repeats.length) {
      box.appendChild(el("p", "未发现。", "muted"));
      return;
    }
    var list = el("ul", "", "plain");
    data.possible_repeats.forEach(function (c) {
      var li = el("li");
      li.appendChild(caseLink(c));
      li.appendChild(document.createTextNode("（" + c.received_on + "，" + c.state + "）"));
      if (c.same_doc_number) li.appendChild(el("span", "文号相同", "tag tag-warn"));
      li.appendChild(el("span", "相似度 " + Math.round(c.similarity * 100) + "%", "tag"));
      li.appendChild(el("div", c.description, "small muted"));
      list.appendChild(li);
    });
    box.appendChild(list);
  }

  // Live look-up of this month's requests and possible repeats while the clerk types.
  function setupHints(form) {
    var url = form.getAttribute("data-hints-url");
    var box = document.getElementById(form.getAttribute("data-hints-target"));
    if (!url || !box || !window.fetch) return;
    var names = ["applicant_name", "id_number", "contact_phone", "description", "doc_number"];
    var timer = null, seq = 0;
    function query() {
      var body = new URLSearchParams();
      var any = false;
      names.forEach(function (n) {
        var v = form.elements[n] ? form.elements[n].value.trim() : "";
        body.set(n, v);
        if (v && n !== "description" && n !== "doc_number") any = true;
      });
      if (!any) return;
      var mine = ++seq;
      // POST with the form's CSRF token: a long description does not fit in a URL.
      var token = form.elements["csrf_token"] ? form.elements["csrf_token"].value : "";
      fetch(url, { method: "POST", body: body, credentials: "same-origin",
                   headers: { "Accept": "application/json", "X-CSRFToken": token } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) { if (mine === seq) renderHints(box, data); })
        .catch(function () { if (mine === seq) box.textContent = "查询失败，请稍后重试。"; });
    }
    names.forEach(function (n) {
      var input = form.elements[n];
      if (!input) return;
      input.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(query, 400);
      });
    });
    query();
  }

  // The archive form (#archive-suggestions): choosing another 保管期限 puts its next 档号 in the field,
  // unless the archivist has typed a number of their own.
  function setupArchiveSuggestions(box) {
    var form = box.closest("form");
    var number = form.elements[box.getAttribute("data-number")];
    var by = form.elements[box.getAttribute("data-by")];
    if (!number || !by) return;
    var values = {};
    Array.prototype.forEach.call(box.querySelectorAll("[data-for]"), function (n) {
      values[n.getAttribute("data-for")] = n.getAttribute("data-value");
    });
    by.addEventListener("change", function () {
      var suggested = Object.keys(values).some(function (k) { return values[k] === number.value.trim(); });
      if ((suggested || !number.value.trim()) && values[by.value]) number.value = values[by.value];
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    // What only a browser without this file needs (e.g. "按所选办理结果显示填写项").
    Array.prototype.forEach.call(document.querySelectorAll(".js-hide"), function (n) { n.hidden = true; });
    setupRows(document);
    setupShowIf(document);
    var intake = document.getElementById("intake-form");
    if (intake) setupHints(intake);
    var archive = document.getElementById("archive-suggestions");
    if (archive) setupArchiveSuggestions(archive);
  });
})();
