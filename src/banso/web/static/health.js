// Draws the Health page's validation charts from the JSON the server embedded in the page:
// outcome rates by band (grouped bars) and each measure's ROC AUC (horizontal bars).
(function () {
  "use strict";
  var rateColours = ["#b3261e", "#1f6f8b", "#a86b00", "#1b7f3b"];
  function percent(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%"; }
  function auc(v) { return v === null || v === undefined ? "—" : v.toFixed(3); }

  function draw() {
    var source = document.getElementById("validation-data");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var bandsTarget = document.getElementById("chart-validation-bands");
    var measuresTarget = document.getElementById("chart-validation-measures");
    var charts = [];

    if (bandsTarget && !echarts.getInstanceByDom(bandsTarget)) {
      var bands = echarts.init(bandsTarget, null, { renderer: "canvas" });
      bands.setOption({
        title: { text: data.bands.title, textStyle: { fontSize: 14 } },
        tooltip: { trigger: "axis", valueFormatter: percent },
        legend: { bottom: 0 },
        grid: { left: 60, right: 10, bottom: 50 },
        xAxis: { type: "category", data: data.bands.labels },
        yAxis: { type: "value", min: 0, max: 1, axisLabel: { formatter: percent } },
        series: data.bands.series.map(function (s, i) {
          return { name: s.name, type: "bar", data: s.data, itemStyle: { color: rateColours[i] } };
        })
      });
      charts.push(bands);
    }

    if (measuresTarget && !echarts.getInstanceByDom(measuresTarget)) {
      var labels = data.measures.labels.slice().reverse();  // best at the top
      var values = data.measures.values.slice().reverse();
      var measures = echarts.init(measuresTarget, null, { renderer: "canvas" });
      measures.setOption({
        title: { text: data.measures.title, textStyle: { fontSize: 14 } },
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: auc },
        grid: { left: 10, right: 40, top: 40, bottom: 20, containLabel: true },
        xAxis: { type: "value", min: 0, max: 1 },
        yAxis: { type: "category", data: labels },
        series: [{
          type: "bar", data: values, itemStyle: { color: "#1f6f8b" },
          label: { show: true, position: "right", formatter: function (p) { return auc(p.value); } },
          markLine: { silent: true, symbol: "none", data: [{ xAxis: 0.5 }],
                      lineStyle: { color: "#5b6678", type: "dashed" }, label: { show: false } }
        }]
      });
      charts.push(measures);
    }
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); }
  else { draw(); }
})();
