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
      function update() {
        var show = values.indexOf(source.value) !== -1 || block.classList.contains("has-error");
        block.hidden = !show;
        Array.prototype.forEach.call(block.querySelectorAll("input, select, textarea"), function (el) {
          el.disabled = !show;
        });
      }
      source.addEventListener("change", update);
      update();
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

  document.addEventListener("DOMContentLoaded", function () {
    setupShowIf(document);
    var intake = document.getElementById("intake-form");
    if (intake) setupHints(intake);
  });
})();
