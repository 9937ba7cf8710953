// 社会治理中心: refresh the board's numbers every 30 seconds without reloading the page.
"use strict";

(function () {
  const url = document.body.dataset.boardJson;
  if (!url) return;
  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : null))
      .then((data) => {
        if (!data) return;
        document.querySelectorAll("[data-cell]").forEach((cell) => {
          const value = data.numbers[cell.dataset.cell];
          if (value !== undefined && String(value) !== cell.textContent) {
            cell.textContent = String(value);
            cell.classList.add("changed");
          }
        });
        const badge = document.getElementById("alerts-open");
        if (badge) badge.textContent = String(data.alerts_open);
        const stamp = document.getElementById("refreshed");
        if (stamp) { stamp.textContent = "已刷新 " + new Date().toLocaleTimeString("zh-CN"); stamp.dataset.count = String(Number(stamp.dataset.count || 0) + 1); }
      })
      .catch(() => {});
  }
  window.fqCentreRefresh = refresh;
  setInterval(refresh, 30000);
})();
