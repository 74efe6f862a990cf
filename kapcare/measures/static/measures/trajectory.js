// Draws each instrument's score trajectory with Chart.js from the JSON the chart page embeds
// (<script type="application/json">, so the Content Security Policy needs no exception).
// The same numbers are in the table under each chart.
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") {
    return;
  }
  var BAND_FILLS = [
    "rgba(23, 96, 58, 0.10)",
    "rgba(122, 74, 0, 0.08)",
    "rgba(122, 74, 0, 0.14)",
    "rgba(163, 22, 28, 0.10)",
    "rgba(163, 22, 28, 0.17)"
  ];
  var DAY = 86400000;

  // Shades each severity band behind the line.
  var bandsPlugin = {
    id: "kapcareBands",
    beforeDatasetsDraw: function (chart, args, options) {
      var area = chart.chartArea;
      var y = chart.scales.y;
      var ctx = chart.ctx;
      (options.bands || []).forEach(function (band, index) {
        var top = y.getPixelForValue(band.high + 0.5);
        var bottom = y.getPixelForValue(band.low - 0.5);
        ctx.save();
        ctx.fillStyle = BAND_FILLS[Math.min(index, BAND_FILLS.length - 1)];
        ctx.fillRect(area.left, Math.max(top, area.top), area.right - area.left,
          Math.min(bottom, area.bottom) - Math.max(top, area.top));
        ctx.restore();
      });
    }
  };

  function level(value, label, colour, days) {
    return {
      label: label,
      data: [{ x: 0, y: value }, { x: days, y: value }],
      borderColor: colour,
      borderDash: [6, 4],
      borderWidth: 1.5,
      pointRadius: 0,
      fill: false
    };
  }

  document.querySelectorAll("canvas[data-trajectory]").forEach(function (canvas) {
    var data = JSON.parse(document.getElementById(canvas.dataset.trajectory).textContent);
    var start = Date.parse(data.start);
    var last = data.points.length ? data.points[data.points.length - 1].days : 0;
    var span = Math.max(last, 14);
    var datasets = [{
      label: data.name,
      data: data.points.map(function (point) { return { x: point.days, y: point.total }; }),
      borderColor: "#1b4f8f",
      backgroundColor: "#1b4f8f",
      pointRadius: 4,
      tension: 0
    }];
    if (data.baseline !== null) {
      datasets.push(level(data.baseline, "Baseline " + data.baseline, "#4a5565", span));
      datasets.push(level(data.baseline / 2, "Response (50% of baseline)", "#1b4f8f", span));
    }
    if (data.remission_at !== null) {
      datasets.push(level(data.remission_at, "Remission (" + data.remission_at + " or less)",
        "#17603a", span));
    }
    new window.Chart(canvas, {
      type: "line",
      data: { datasets: datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        parsing: true,
        scales: {
          x: {
            type: "linear",
            min: 0,
            max: span,
            ticks: {
              callback: function (value) {
                return new Date(start + value * DAY).toISOString().slice(0, 10);
              },
              maxTicksLimit: 6
            }
          },
          y: { min: data.range[0], max: data.range[1], title: { display: true, text: "Total" } }
        },
        plugins: {
          kapcareBands: { bands: data.bands },
          legend: { position: "bottom", labels: { boxWidth: 18 } },
          tooltip: {
            callbacks: {
              title: function (items) {
                return new Date(start + items[0].parsed.x * DAY).toISOString().slice(0, 10);
              }
            }
          }
        }
      },
      plugins: [bandsPlugin]
    });
  });
})();
