// Draws the account 360's usage chart once htmx has swapped the usage fragment in.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("usage-data");
    var target = document.getElementById("chart-usage");
    if (!source || !target || !window.echarts || echarts.getInstanceByDom(target)) { return; }
    var data = JSON.parse(source.textContent);
    var whole = function (v) { return Math.round(v).toLocaleString(); };
    echarts.init(target, null, { renderer: "canvas" }).setOption({
      title: { text: data.title, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis", valueFormatter: whole },
      legend: { bottom: 0 },
      grid: { left: 60, right: 60, bottom: 70 },
      xAxis: { type: "category", name: data.day, nameLocation: "middle", nameGap: 28,
               data: data.days },
      yAxis: [
        { type: "value", name: data.active_users, minInterval: 1 },
        { type: "value", name: data.events, minInterval: 1, splitLine: { show: false } }
      ],
      series: [
        { name: data.events, type: "bar", yAxisIndex: 1, data: data.series.events,
          itemStyle: { color: "#9cc3d5" } },
        { name: data.active_users, type: "line", yAxisIndex: 0, data: data.series.active_users,
          itemStyle: { color: "#1f6f8b" }, showSymbol: false }
      ]
    });
  }
  document.addEventListener("htmx:afterSettle", draw);
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); }
  else { draw(); }
})();
