/* A job's page (templates/jobs/job.html): asks for the job's status every two seconds and shows its
   progress; when the job ends the page reloads to show the download or the resubmit button. */
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) return;
  var url = box.getAttribute("data-status-url");
  var status = box.getAttribute("data-status");

  function show(id, text) {
    var el = document.getElementById(id);
    if (!el) return;
    var target = el.querySelector("span") || el;
    if (text) { target.textContent = text; el.hidden = false; } else { el.hidden = true; }
  }

  function tick() {
    var req = new XMLHttpRequest();
    req.open("GET", url);
    req.setRequestHeader("Accept", "application/json");
    req.onload = function () {
      if (req.status !== 200) { setTimeout(tick, 5000); return; }
      var job = JSON.parse(req.responseText);
      if (job.status !== status && (job.status === "done" || job.status === "failed")) {
        window.location.reload();
        return;
      }
      status = job.status;
      document.getElementById("job-status").textContent = job.status_label;
      document.getElementById("job-progress").textContent = job.done + " / " + job.total;
      var bar = document.getElementById("job-bar");
      bar.max = job.total || 1;
      bar.value = job.done;
      show("job-queue-problem", job.queue_problem);
      show("job-waiting", job.waiting);
      setTimeout(tick, 2000);
    };
    req.onerror = function () { setTimeout(tick, 5000); };
    req.send();
  }

  if (status === "queued" || status === "running") setTimeout(tick, 2000);
})();
