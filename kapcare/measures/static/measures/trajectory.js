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

  // A dashed vertical line at each dose, labelled at the top.
  var markersPlugin = {
    id: "kapcareMarkers",
    afterDatasetsDraw: function (chart, args, options) {
      var area = chart.chartArea;
      var x = chart.scales.x;
      var ctx = chart.ctx;
      (options.markers || []).forEach(function (marker) {
        var at = x.getPixelForValue(marker.days);
        if (at < area.left || at > area.right) {
          return;
        }
        ctx.save();
        ctx.strokeStyle = "rgba(91, 33, 122, 0.7)";
        ctx.setLineDash([3, 3]);
        ctx.beginPath();
        ctx.moveTo(at, area.top);
        ctx.lineTo(at, area.bottom);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = "rgba(91, 33, 122, 0.9)";
        ctx.font = "11px sans-serif";
        ctx.fillText("\u25BC", at - 4, area.top + 10);
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
    (data.markers || []).forEach(function (marker) { last = Math.max(last, marker.days); });
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
          kapcareMarkers: { markers: data.markers },
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
      plugins: [bandsPlugin, markersPlugin]
    });
  });
})();
