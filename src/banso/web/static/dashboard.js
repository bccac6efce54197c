// Draws the dashboard's ECharts charts from the JSON the server embedded in the page.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("dashboard-data");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var percent = function (v) { return v === null ? "—" : (v * 100).toFixed(2) + "%"; };
    var yen = function (v) { return Math.round(v).toLocaleString(); };

    var w = data.waterfall, base = [], bars = [], running = 0;
    w.values.forEach(function (v, i) {
      if (i === 0 || i === w.values.length - 1) { base.push(0); bars.push(v); running = v; return; }
      if (v >= 0) { base.push(running); bars.push(v); running += v; }
      else { running += v; base.push(running); bars.push(-v); }
    });
    echarts.init(document.getElementById("chart-waterfall"), null, { renderer: "canvas" }).setOption({
      title: { text: w.title, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis", valueFormatter: yen },
      grid: { left: 80, right: 10 },
      xAxis: { type: "category", data: w.labels },
      yAxis: { type: "value", axisLabel: { formatter: yen } },
      series: [
        { type: "bar", stack: "w", data: base, itemStyle: { color: "transparent" }, tooltip: { show: false } },
        { type: "bar", stack: "w", data: bars.map(function (v, i) {
            var colour = i === 0 || i === bars.length - 1 ? "#1f6f8b" : (w.values[i] >= 0 ? "#1b7f3b" : "#b3261e");
            return { value: v, itemStyle: { color: colour } };
          }) }
      ]
    });

    function lines(id, chart) {
      echarts.init(document.getElementById(id), null, { renderer: "canvas" }).setOption({
        title: { text: chart.title, textStyle: { fontSize: 14 } },
        tooltip: { trigger: "axis", valueFormatter: percent },
        legend: { bottom: 0 },
        grid: { left: 60, right: 10, bottom: 50 },
        xAxis: { type: "category", data: chart.months },
        yAxis: { type: "value", scale: true, axisLabel: { formatter: percent } },
        series: Object.keys(chart.series).map(function (name) {
          return { name: name, type: "line", data: chart.series[name], connectNulls: false };
        })
      });
    }
    lines("chart-retention", data.retention);
    lines("chart-churn", data.churn);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); }
  else { draw(); }
})();

// Weekly accounts per health band (Health page and dashboard), stacked bars.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("bands-data");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var colours = { green: "#1b7f3b", yellow: "#a86b00", red: "#b3261e" };
    echarts.init(document.getElementById("chart-bands"), null, { renderer: "canvas" }).setOption({
      title: { text: data.title, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { bottom: 0 },
      grid: { left: 60, right: 10, bottom: 50 },
      xAxis: { type: "category", data: data.days },
      yAxis: { type: "value" },
      series: data.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "bands", data: s.data,
                 itemStyle: { color: colours[s.band] } };
      })
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); }
  else { draw(); }
})();

// A select marked data-submit-on-change submits its form when a new value is picked (an
// event listener here, since the content security policy allows no inline onchange=).
(function () {
  "use strict";
  function wire() {
    document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", wire); }
  else { wire(); }
})();
