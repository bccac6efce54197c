// Draws the Metrics page's cohort heatmap from the JSON the server embedded in the page;
// the radio buttons switch it between logo retention and revenue retention.
(function () {
  "use strict";
  var colours = ["#f7fbff", "#93c3df", "#276aa0", "#08306b"];
  function percent(v) { return (v * 100).toFixed(1) + "%"; }

  function option(data, key) {
    var measure = data.measures[key];
    var highest = measure.cells.reduce(function (m, c) { return Math.max(m, c[2]); }, 1);
    return {
      tooltip: {
        formatter: function (p) {
          return data.cohorts[p.value[1]] + " · " + data.x_name + " " + data.ages[p.value[0]] +
            "<br>" + measure.label + ": " + percent(p.value[2]);
        }
      },
      grid: { left: 80, right: 20, top: 40, bottom: 95 },
      xAxis: { type: "category", data: data.ages, name: data.x_name, nameLocation: "middle",
               nameGap: 28, splitArea: { show: true } },
      yAxis: { type: "category", data: data.cohorts, name: data.y_name, nameLocation: "start",
               inverse: true, splitArea: { show: true } },
      visualMap: { min: 0, max: highest, calculable: false, orient: "horizontal", left: "center",
                   bottom: 0, itemHeight: 160, text: [percent(highest), "0%"],
                   inRange: { color: colours } },
      series: [{
        name: measure.label, type: "heatmap", data: measure.cells,
        label: { show: true, fontSize: 11, formatter: function (p) { return percent(p.value[2]); } },
        emphasis: { itemStyle: { borderColor: "#1d2430", borderWidth: 1 } }
      }]
    };
  }

  function draw() {
    var source = document.getElementById("cohort-data");
    var target = document.getElementById("chart-cohorts");
    if (!source || !target || !window.echarts || echarts.getInstanceByDom(target)) { return; }
    var data = JSON.parse(source.textContent);
    target.style.height = Math.max(260, 135 + 34 * data.cohorts.length) + "px";
    var chart = echarts.init(target, null, { renderer: "canvas" });
    chart.setOption(option(data, "logo_retention"));
    var choice = document.getElementById("heatmap-measure");
    if (choice) {
      choice.hidden = false;
      choice.addEventListener("change", function (event) {
        chart.setOption(option(data, event.target.value), { replaceMerge: ["series"] });
      });
    }
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); }
  else { draw(); }
})();
