// Draws the Targets page's chart: the total target of each month of the fiscal year as bars and
// the total actual of the months that are over as a line, from the JSON the server embedded.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "en";
  var money = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });

  function draw() {
    var box = document.getElementById("chart-targets");
    var source = document.getElementById("targets-data");
    if (!box || !source || typeof echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var chart = echarts.init(box);
    var series = [{ name: data.labels.target, type: "bar", data: data.target,
                    itemStyle: { color: "#93c3df" } }];
    if (data.actual.length) {
      series.push({ name: data.labels.actual, type: "line", data: data.actual,
                    itemStyle: { color: "#08306b" } });
    }
    chart.setOption({
      tooltip: { trigger: "axis", valueFormatter: function (v) { return money.format(v); } },
      legend: { data: series.map(function (s) { return s.name; }), top: 0 },
      grid: { left: 100, right: 20, top: 40, bottom: 60 },
      xAxis: { type: "category", data: data.months, axisLabel: { rotate: 45 } },
      yAxis: { type: "value", name: data.labels.currency,
               axisLabel: { formatter: function (v) { return money.format(v); } } },
      series: series
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
}());
