/* 删除处理 (templates/redaction/workspace.html): the pages with their boxes, drawing a box with the mouse,
   a finger or a pen (Pointer Events), editing and removing boxes, search and the personal-data suggestions.
   Every write sends the redaction hash the page shows (set_hash); a 409 means someone else changed the set,
   so the page says so and reloads it. The release section's progress is refreshed here too. */
(function () {
  "use strict";
  var WIDTHS = [400, 800, 1100, 1400, 1800];  // the server's page sizes (app/casefile/redaction.py)
  var KINDS = { manual: "手工框选", search: "查找标注", id_number: "身份证号码", mobile: "手机号码",
                bank_card: "银行卡号", address: "住址" };
  var MIN = 0.004;  // a drag smaller than this (fraction of the page) is a click, not a box

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function button(text, cls, onclick) {
    var b = el("button", "btn btn-small" + (cls ? " " + cls : ""), text);
    b.type = "button";
    b.addEventListener("click", onclick);
    return b;
  }

  // ---------------------------------------------------------------- the release's progress

  function watchRelease() {
    var box = document.getElementById("release");
    if (!box || !box.getAttribute("data-active")) return;
    var url = box.getAttribute("data-status-url");
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) {
          var ended = false;
          data.releases.forEach(function (rel) {
            var row = document.getElementById("release-" + rel.id);
            if (!row) { ended = true; return; }
            if (row.getAttribute("data-status") !== rel.status && (rel.status === "done" || rel.status === "failed")) ended = true;
            if (!rel.job) return;
            var bar = row.querySelector(".release-bar"), txt = row.querySelector(".release-progress"),
                label = row.querySelector(".release-label");
            if (bar) { bar.max = rel.job.total || 1; bar.value = rel.job.done; }
            if (txt) txt.textContent = rel.job.done + " / " + rel.job.total + " 页";
            if (label) label.textContent = rel.job.status_label;
          });
          if (ended) window.location.reload(); else setTimeout(tick, 2000);
        })
        .catch(function () { setTimeout(tick, 5000); });
    }
    setTimeout(tick, 1500);
  }

  // ---------------------------------------------------------------- the workspace

  function setup(root) {
    var base = root.getAttribute("data-base");
    var editable = !!root.getAttribute("data-editable");
    var meta = document.querySelector("meta[name=csrf-token]");
    var csrf = meta ? meta.getAttribute("content") : "";
    var pagesEl = document.getElementById("pages");
    var statusEl = document.getElementById("redact-status");
    var filterEl = document.getElementById("doc-filter");
    var drawBtn = document.getElementById("tool-draw");
    var S = { hash: root.getAttribute("data-hash"), documents: [], bases: [] };
    var layout = "";      // which documents and pages are shown (re-rendered only when it changes)
    var drawing = false, drag = null, pop = null, lastBasis = "", hits = [];

    var sayTimer = null;
    function say(msg, kind) {  // a toast over the page: the user may be far down the pages
      clearTimeout(sayTimer);
      statusEl.textContent = msg || "";
      statusEl.className = "alert redact-toast alert-" + (kind || "info");
      statusEl.hidden = !msg;
      if (kind === "success") sayTimer = setTimeout(function () { statusEl.hidden = true; }, 4000);
    }
    statusEl.addEventListener("click", function () { statusEl.hidden = true; });

    function basisIndex(articles) {
      for (var i = 0; i < S.bases.length; i++) if (S.bases[i].value === articles) return i;
      return "x";
    }

    function docById(id) {
      for (var i = 0; i < S.documents.length; i++) if (S.documents[i].id === id) return S.documents[i];
      return null;
    }

    // One request; resolves with the JSON, rejects with {status, error} (the service's Chinese message).
    function request(method, path, body) {
      var opts = { method: method, credentials: "same-origin", headers: { "Accept": "application/json" } };
      if (body) {
        opts.headers["Content-Type"] = "application/json";
        opts.headers["X-CSRFToken"] = csrf;
        opts.body = JSON.stringify(body);
      }
      return fetch(base + path, opts).then(function (r) {
        return r.text().then(function (t) {
          var data = null;
          try { data = JSON.parse(t); } catch (e) { data = null; }
          if (r.ok && data) return data;
          var msg = data && data.error;
          if (!msg && r.redirected) msg = "登录已失效，请重新登录后再试。";
          if (!msg && r.status === 400) msg = "页面已过期或缺少安全校验信息（CSRF），请刷新页面后重试。";
          throw { status: r.status, error: msg || "操作未完成（" + r.status + "），请刷新页面后重试。" };
        });
      }, function () {
        throw { status: 0, error: "网络连接失败，操作未完成，请稍后重试。" };
      });
    }

    function write(path, body) {
      body.set_hash = S.hash;
      return request("POST", path, body).then(function (data) {
        setState(data);
        return data;
      }, function (err) {
        if (err.status === 409) {
          say(err.error + " 页面已载入最新的标注。", "warning");
          load();
        } else {
          say(err.error, "error");
        }
        throw err;
      });
    }

    function load() {
      return request("GET", "/state.json").then(setState, function (err) { say(err.error, "error"); });
    }

    function setState(data) {
      S = data;
      Array.prototype.forEach.call(document.querySelectorAll("input[name=set_hash]"), function (i) { i.value = S.hash; });
      if (!S.editable && drawBtn) { drawBtn.hidden = true; setDrawing(false); }
      render();
    }

    // ---------------------------------------------------------------- pages and boxes

    function imageWidth() {
      var want = (pagesEl.clientWidth || 800) * (window.devicePixelRatio || 1);
      for (var i = 0; i < WIDTHS.length; i++) if (WIDTHS[i] >= want) return WIDTHS[i];
      return WIDTHS[WIDTHS.length - 1];
    }

    function place(e, b) {
      e.style.left = (b.x0 * 100) + "%";
      e.style.top = (b.y0 * 100) + "%";
      e.style.width = ((b.x1 - b.x0) * 100) + "%";
      e.style.height = ((b.y1 - b.y0) * 100) + "%";
    }

    function pageEl(docId, page) {
      return pagesEl.querySelector('.rpage[data-doc="' + docId + '"][data-page="' + page + '"]');
    }

    function renderPages() {
      var filter = filterEl.value;
      var shown = S.documents.filter(function (d) { return !filter || String(d.id) === filter; });
      var key = filter + "|" + shown.map(function (d) { return d.id + ":" + d.pages; }).join(",");
      if (key === layout) return;
      layout = key;
      closePop();
      pagesEl.textContent = "";
      var w = imageWidth();
      shown.forEach(function (d) {
        var head = el("h3", "rdoc-title", "《" + d.title + "》共" + d.pages + "页");
        if (!d.text_pages) head.appendChild(el("span", "tag tag-warn", "扫描件无文字层，只能手工框选"));
        pagesEl.appendChild(head);
        for (var p = 0; p < d.pages; p++) {
          var pg = el("div", "rpage");
          pg.setAttribute("data-doc", d.id);
          pg.setAttribute("data-page", p);
          pg.style.aspectRatio = d.sizes[p][0] + " / " + d.sizes[p][1];
          var img = el("img");
          img.loading = "lazy";
          img.decoding = "async";
          img.draggable = false;
          img.alt = "《" + d.title + "》第" + (p + 1) + "页";
          img.width = w;
          img.height = Math.round(w * d.sizes[p][1] / d.sizes[p][0]);
          img.src = base + "/documents/" + d.id + "/pages/" + (p + 1) + ".png?w=" + w;
          pg.appendChild(img);
          pg.appendChild(el("span", "rpage-no", "第" + (p + 1) + "页"));
          pagesEl.appendChild(pg);
        }
      });
      if (!shown.length) pagesEl.appendChild(el("p", "muted", "没有原件。"));
    }

    function renderBoxes() {
      Array.prototype.forEach.call(pagesEl.querySelectorAll(".rbox, .rhit"), function (n) {
        if (!n.classList.contains("rbox-new")) n.parentNode.removeChild(n);
      });
      S.documents.forEach(function (d) {
        d.boxes.forEach(function (b) {
          var pg = pageEl(d.id, b.page);
          if (!pg) return;
          var e = el("div", "rbox basis-" + basisIndex(b.basis));
          e.setAttribute("data-id", b.id);
          e.title = b.basis_label + (b.note ? "：" + b.note : "");
          e.appendChild(el("span", "rbox-label", b.basis));
          if (S.editable) {
            e.tabIndex = 0;
            e.setAttribute("role", "button");
            e.setAttribute("aria-label", "标注：" + b.basis + (b.note ? "，" + b.note : "") + "（按回车修改）");
          }
          place(e, b);
          pg.appendChild(e);
        });
      });
      hits.forEach(function (h) {
        h.boxes.forEach(function (b) {
          var pg = pageEl(h.document_id, b.page);
          if (!pg) return;
          var e = el("div", "rhit");
          place(e, b);
          pg.appendChild(e);
        });
      });
    }

    function describe(b) {
      return b.note || b.matched || KINDS[b.kind] || b.kind;
    }

    function renderList() {
      var list = document.getElementById("box-list");
      list.textContent = "";
      var n = 0;
      S.bases.concat([{ value: null }]).forEach(function (basis) {
        var marks = [];
        S.documents.forEach(function (d) {
          d.boxes.forEach(function (b) {
            var known = basisIndex(b.basis) !== "x";
            if ((basis.value === null && !known) || b.basis === basis.value) marks.push({ d: d, b: b });
          });
        });
        if (!marks.length) return;
        n += marks.length;
        var h = el("h3", "rgroup");
        h.appendChild(el("span", "rswatch basis-" + basisIndex(marks[0].b.basis)));
        h.appendChild(document.createTextNode((basis.label || marks[0].b.basis_label) + "（" + marks.length + "）"));
        list.appendChild(h);
        var ul = el("ul", "plain small");
        marks.forEach(function (m) {
          var li = el("li");
          li.id = "box-" + m.b.id;
          li.appendChild(document.createTextNode("《" + m.d.title + "》第" + (m.b.page + 1) + "页 " + describe(m.b) + " "));
          var ops = el("span", "rbox-ops");
          ops.appendChild(button("定位", "", function () { reveal(m.d.id, m.b, false); }));
          if (S.editable) {
            ops.appendChild(button("修改", "", function () { reveal(m.d.id, m.b, true); }));
            ops.appendChild(button("删除", "btn-danger", function () { removeBox(m.b); }));
          }
          li.appendChild(ops);
          ul.appendChild(li);
        });
        list.appendChild(ul);
      });
      if (!n) list.appendChild(el("p", "muted", "尚未标注。"));
      document.getElementById("box-count").textContent = "（" + n + " 处）";
      S.documents.forEach(function (d) {
        var cell = document.getElementById("document-boxes-" + d.id);
        if (cell) cell.textContent = String(d.boxes.length);
      });
    }

    function renderPreview() {
      var body = document.querySelector("#preview-rows tbody");
      body.textContent = "";
      S.rows.forEach(function (r, i) {
        var tr = el("tr");
        [String(i + 1), r.part, r.basis, r.reason].forEach(function (t) { tr.appendChild(el("td", "", t)); });
        body.appendChild(tr);
      });
      if (!S.rows.length) {
        var td = el("td", "muted", "尚无标注");
        td.colSpan = 4;
        body.appendChild(el("tr")).appendChild(td);
      }
      var ul = document.getElementById("preview-attachments");
      ul.textContent = "";
      S.attachments.forEach(function (line) { ul.appendChild(el("li", "", line)); });
      document.getElementById("hash-short").textContent = S.hash ? S.hash.slice(0, 12) : "—";
    }

    function render() {
      renderPages();
      renderBoxes();
      renderList();
      renderPreview();
    }

    function reveal(docId, b, edit) {
      if (filterEl.value && filterEl.value !== String(docId)) { filterEl.value = ""; render(); }
      var pg = pageEl(docId, b.page);
      if (!pg) return;
      var box = pg.querySelector('.rbox[data-id="' + b.id + '"]');
      (box || pg).scrollIntoView({ block: "center", behavior: "smooth" });
      if (box) box.classList.add("rbox-flash");
      setTimeout(function () { if (box) box.classList.remove("rbox-flash"); }, 1500);
      if (edit) openPop(pg, b, b);
    }

    // ---------------------------------------------------------------- the popover: basis and note

    function closePop() {
      if (pop) pop.parentNode.removeChild(pop);
      pop = null;
      Array.prototype.forEach.call(pagesEl.querySelectorAll(".rbox-new"), function (n) { n.parentNode.removeChild(n); });
    }

    function openPop(pg, b, existing) {
      if (pop) pop.parentNode.removeChild(pop);
      pop = el("form", "rpop");
      pop.setAttribute("role", "dialog");
      pop.setAttribute("aria-label", existing ? "修改标注" : "新标注");
      pop.noValidate = true;
      pop.appendChild(el("strong", "", existing ? "修改标注" : "新标注：不予公开的依据"));
      var sel = el("select", "input");
      sel.name = "basis";
      sel.required = true;
      sel.setAttribute("aria-label", "依据");
      sel.appendChild(el("option", "", "请选择依据")).value = "";
      S.bases.forEach(function (x) { sel.appendChild(el("option", "", x.label)).value = x.value; });
      sel.value = existing ? existing.basis : lastBasis;
      var note = el("input", "input");
      note.name = "note";
      note.maxLength = 200;
      note.placeholder = "说明（可选），如：姓名、住址";
      note.setAttribute("aria-label", "说明");
      note.value = existing ? existing.note : "";
      var err = el("div", "error-msg");
      err.hidden = true;
      var ops = el("div", "rpop-ops");
      var save = el("button", "btn btn-primary btn-small", "保存");
      save.type = "submit";
      ops.appendChild(save);
      if (existing) ops.appendChild(button("取消标注", "btn-danger", function () { removeBox(existing); }));
      ops.appendChild(button("关闭", "", closePop));
      [sel, note, err, ops].forEach(function (n) { pop.appendChild(n); });
      pop.style.left = (Math.min(b.x0, 0.5) * 100) + "%";
      pop.style.top = (Math.min(b.y1, 0.85) * 100) + "%";
      pop.addEventListener("submit", function (ev) {
        ev.preventDefault();
        if (!sel.value) { err.textContent = "请选择不予公开的依据"; err.hidden = false; sel.focus(); return; }
        lastBasis = sel.value;
        save.disabled = true;
        var done = existing
          ? write("/boxes/" + existing.id, { basis: sel.value, note: note.value })
          : write("/boxes", { document_id: Number(pg.getAttribute("data-doc")), basis: sel.value, note: note.value,
                              boxes: [{ page: Number(pg.getAttribute("data-page")), x0: b.x0, y0: b.y0, x1: b.x1, y1: b.y1,
                                        kind: "manual" }] });
        done.then(function () {
          closePop();
          say(existing ? "已修改标注。" : "已保存标注。", "success");
          if (!existing) refreshSuggestions();
        }, function (e) {
          save.disabled = false;
          err.textContent = e.error;
          err.hidden = e.status === 409;
          if (e.status === 409) closePop();
        });
      });
      pg.appendChild(pop);
      // On a phone the popover is a sheet at the bottom: keep the box being marked visible above it.
      if (window.getComputedStyle(pop).position === "fixed") {
        var r = pg.getBoundingClientRect(), sheet = pop.getBoundingClientRect().top;
        var bottom = r.top + b.y1 * r.height;
        if (bottom > sheet - 12) window.scrollBy(0, bottom - sheet + 24);
      }
      sel.focus({ preventScroll: true });
    }

    function removeBox(b) {
      if (!window.confirm("取消这个标注（" + b.basis + (b.note ? "，" + b.note : "") + "）？")) return;
      write("/boxes/remove", { ids: [b.id] }).then(function () {
        closePop();
        say("已取消标注。", "success");
        refreshSuggestions();
      }, function () {});
    }

    // ---------------------------------------------------------------- drawing (mouse, touch, pen)

    function setDrawing(on) {
      drawing = on;
      pagesEl.classList.toggle("drawing", on);
      if (drawBtn) {
        drawBtn.setAttribute("aria-pressed", on ? "true" : "false");
        drawBtn.textContent = on ? "框选中（点此结束）" : "框选";
      }
    }

    function frac(ev, r) {
      return { x: Math.max(0, Math.min(1, (ev.clientX - r.left) / r.width)),
               y: Math.max(0, Math.min(1, (ev.clientY - r.top) / r.height)) };
    }

    function rectOf(a, c) {
      return { x0: Math.min(a.x, c.x), y0: Math.min(a.y, c.y), x1: Math.max(a.x, c.x), y1: Math.max(a.y, c.y) };
    }

    function boxById(docId, id) {
      var d = docById(docId);
      if (!d) return null;
      for (var i = 0; i < d.boxes.length; i++) if (d.boxes[i].id === id) return d.boxes[i];
      return null;
    }

    pagesEl.addEventListener("pointerdown", function (ev) {
      if (!drawing || !S.editable || ev.button > 0 || ev.target.closest(".rpop")) return;
      var pg = ev.target.closest(".rpage");
      if (!pg) return;
      ev.preventDefault();
      closePop();
      var hit = ev.target.closest(".rbox[data-id]");
      var r = pg.getBoundingClientRect();
      var start = frac(ev, r);
      var shape = el("div", "rbox rbox-new");
      place(shape, rectOf(start, start));
      pg.appendChild(shape);
      drag = { pg: pg, r: r, start: start, cur: start, shape: shape, id: ev.pointerId,
               hit: hit ? Number(hit.getAttribute("data-id")) : null };
      pg.setPointerCapture(ev.pointerId);
    });

    pagesEl.addEventListener("pointermove", function (ev) {
      if (!drag || ev.pointerId !== drag.id) return;
      drag.cur = frac(ev, drag.r);
      place(drag.shape, rectOf(drag.start, drag.cur));
    });

    function endDrag(ev, cancelled) {
      if (!drag || ev.pointerId !== drag.id) return;
      var d = drag;
      drag = null;
      var b = rectOf(d.start, d.cur);
      if (cancelled || (b.x1 - b.x0 < MIN || b.y1 - b.y0 < MIN)) {
        d.shape.parentNode.removeChild(d.shape);
        if (!cancelled && d.hit) {
          var existing = boxById(Number(d.pg.getAttribute("data-doc")), d.hit);
          if (existing) openPop(d.pg, existing, existing);
        }
        return;
      }
      openPop(d.pg, b, null);
    }
    pagesEl.addEventListener("pointerup", function (ev) { endDrag(ev, false); });
    pagesEl.addEventListener("pointercancel", function (ev) { endDrag(ev, true); });

    // Not drawing: a click (or Enter) on a box edits it.
    function editFrom(target) {
      var e = target.closest(".rbox[data-id]");
      if (!e || !S.editable) return false;
      var pg = e.closest(".rpage");
      var b = boxById(Number(pg.getAttribute("data-doc")), Number(e.getAttribute("data-id")));
      if (b) openPop(pg, b, b);
      return !!b;
    }
    pagesEl.addEventListener("click", function (ev) { if (!drawing && !ev.target.closest(".rpop")) editFrom(ev.target); });
    pagesEl.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && ev.target.classList.contains("rbox") && editFrom(ev.target)) ev.preventDefault();
    });

    document.addEventListener("keydown", function (ev) {
      if (ev.key !== "Escape") return;
      if (drag) { drag.shape.parentNode.removeChild(drag.shape); drag = null; }
      if (pop) closePop();
      else if (drawing) setDrawing(false);
    });

    if (drawBtn) drawBtn.addEventListener("click", function () { setDrawing(!drawing); });
    filterEl.addEventListener("change", render);
    // Images at another size only when the page view's width really changed (not for a phone's keyboard),
    // and never under an open popover or a drag.
    var resizeTimer = null, shownWidth = pagesEl.clientWidth;
    window.addEventListener("resize", function () {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(function () {
        if (pop || drag || Math.abs(pagesEl.clientWidth - shownWidth) < 100) return;
        shownWidth = pagesEl.clientWidth;
        layout = "";
        render();
      }, 300);
    });

    // ---------------------------------------------------------------- search and suggestions

    // Hits of one or more documents marked with one basis: one request per document.
    function markHits(list, basis, kind) {
      var byDoc = {};
      list.forEach(function (h) {
        (byDoc[h.document_id] = byDoc[h.document_id] || []).push(h);
      });
      var ids = Object.keys(byDoc), count = 0;
      function next(i) {
        if (i >= ids.length) return Promise.resolve(count);
        var boxes = [];
        byDoc[ids[i]].forEach(function (h) {
          h.boxes.forEach(function (b) {
            boxes.push({ page: b.page, x0: b.x0, y0: b.y0, x1: b.x1, y1: b.y1, kind: kind || h.kind, text: h.text });
          });
          count += 1;
        });
        return write("/boxes", { document_id: Number(ids[i]), basis: basis, boxes: boxes, note: "" })
          .then(function () { return next(i + 1); });
      }
      return next(0);
    }

    var searchForm = document.getElementById("search-form");
    if (searchForm) {
      var results = document.getElementById("search-results");
      var markAll = document.getElementById("search-markall");
      var searchBasis = document.getElementById("search-basis");
      var showHits = function () {
        results.textContent = "";
        markAll.hidden = !hits.length;
        renderBoxes();
        if (!hits.length) return;
        results.appendChild(el("p", "", "找到 " + hits.length + " 处（页面上以黄色虚线标出）："));
        var ul = el("ul", "plain");
        hits.forEach(function (h) {
          var li = el("li", "", "《" + h.title + "》第" + (h.page + 1) + "页 “" + h.text + "” ");
          li.appendChild(button("定位", "", function () { reveal(h.document_id, h.boxes[0] || { page: h.page }, false); }));
          li.appendChild(button("标注", "", function () { markSome([h]); }));
          ul.appendChild(li);
        });
        results.appendChild(ul);
      };
      var markSome = function (list) {
        if (!searchBasis.value) { say("请先选择依据，再标注查找到的文字。", "error"); searchBasis.focus(); return; }
        markHits(list, searchBasis.value, "search").then(function (n) {
          hits = hits.filter(function (h) { return list.indexOf(h) === -1; });
          showHits();
          say("已标注 " + n + " 处。", "success");
          refreshSuggestions();
        }, function () {});
      };
      searchForm.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var q = document.getElementById("search-q").value.trim();
        if (!q) { say("请输入要查找的文字。", "error"); return; }
        results.textContent = "正在查找…";
        request("GET", "/search.json?q=" + encodeURIComponent(q)).then(function (data) {
          hits = data.hits;
          showHits();
          if (!hits.length) results.textContent = "未找到“" + q + "”（扫描件无文字层，不能查找）。";
        }, function (err) { results.textContent = ""; say(err.error, "error"); });
      });
      document.getElementById("search-mark-all").addEventListener("click", function () { markSome(hits.slice()); });
    }

    var suggestBox = document.getElementById("suggestions");
    function refreshSuggestions() {
      if (!suggestBox) return;
      request("GET", "/suggestions.json").then(function (data) {
        var list = data.suggestions;
        suggestBox.textContent = "";
        document.getElementById("suggest-all").hidden = !list.length;
        if (!list.length) { suggestBox.appendChild(el("p", "muted", "没有尚未标注的个人信息。")); return; }
        var ul = el("ul", "plain");
        list.forEach(function (s) {
          var li = el("li", "suggestion");
          li.appendChild(el("span", "tag", s.label || KINDS[s.kind] || s.kind));
          li.appendChild(document.createTextNode(" " + s.text + " 《" + s.title + "》第" + (s.page + 1) + "页 "));
          li.appendChild(button("采纳", "", function () { accept([s]); }));
          ul.appendChild(li);
        });
        suggestBox.appendChild(ul);
        suggestBox.suggestions = list;
      }, function (err) { suggestBox.textContent = err.error; });
    }
    function accept(list) {
      var basis = document.getElementById("suggest-basis").value;
      markHits(list, basis, null).then(function (n) {
        say("已采纳 " + n + " 条建议。", "success");
        refreshSuggestions();
      }, function () {});
    }
    if (suggestBox) {
      document.getElementById("suggest-accept-all").addEventListener("click", function () {
        accept(suggestBox.suggestions || []);
      });
    }

    document.getElementById("redact-toolbar").hidden = false;
    load().then(function () { if (S.editable) refreshSuggestions(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("redact");
    if (root && window.fetch) setup(root);
    watchRelease();
  });
})();
