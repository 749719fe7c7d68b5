/* The agency settings page (templates/letters/agency.html): the 档号 example follows the rule and the
   全宗号 as they are typed. Same placeholders as app/domain/archive_number.py; a rule it cannot read
   hides the example (the server says why on saving). */
(function () {
  "use strict";
  var box = document.getElementById("archive-example");
  var pattern = document.getElementById("archive_pattern");
  var fonds = document.getElementById("fonds_code");
  if (!box || !pattern || !fonds) return;
  var out = document.getElementById("archive-example-value");

  function pad(value, spec) {
    var m = /^(?:0([1-9]))?d?$/.exec(spec || "");
    if (!m) return null;
    var s = String(value);
    var width = m[1] ? parseInt(m[1], 10) : 0;
    while (s.length < width) s = "0" + s;
    return s;
  }

  function format(rule, values) {
    var text = "", seen = {}, i = 0;
    while (i < rule.length) {
      var ch = rule.charAt(i);
      if ((ch === "{" || ch === "}") && rule.charAt(i + 1) === ch) { text += ch; i += 2; continue; }
      if (ch === "}") return null;
      if (ch !== "{") { text += ch; i += 1; continue; }
      var end = rule.indexOf("}", i);
      if (end < 0) return null;
      var field = rule.slice(i + 1, end).split(":");
      var name = field[0], spec = field.length > 1 ? field.slice(1).join(":") : "";
      if (!(name in values) || seen[name] || field.length > 2) return null;
      seen[name] = true;
      var part = name === "year" || name === "seq" ? pad(values[name], spec) : (spec ? null : values[name]);
      if (part === null) return null;
      text += part;
      i = end + 1;
    }
    return seen.seq && seen.year && !/\s/.test(rule) ? text : null;
  }

  function update() {
    var code = fonds.value.trim() || box.getAttribute("data-code");
    var text = format(pattern.value.trim(), {fonds: code, year: box.getAttribute("data-year"), period: "D10", seq: 1});
    if (text === null || text.length > 60) { box.hidden = true; return; }
    out.textContent = text;
    box.hidden = false;
  }

  pattern.addEventListener("input", update);
  fonds.addEventListener("input", update);
})();
