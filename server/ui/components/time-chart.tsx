/** A line chart over time (uPlot), made once and given new data as it comes. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  stroke: string;
  /** Dashed, for a second reading of the same quantity (p95 beside p50). */
  dash?: number[];
  /** Dots on each value: for series with gaps, where a lone value draws no line. */
  points?: boolean;
}

const height = 200;

export function TimeChart(props: {
  caption: string;
  description: string;
  yLabel: string;
  series: readonly ChartSeries[];
  /** Times in seconds, then one array per series (null: no value). */
  data: uPlot.AlignedData;
  /** Shortest span shown, in seconds, so that the first points do not stretch across years. */
  minSpanS: number;
}) {
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot>();
  useEffect(() => {
    const target = element.current;
    if (target === null) return undefined;
    chart.current = new uPlot(
      {
        width: Math.max(280, target.clientWidth),
        height,
        scales: {
          x: {
            time: true,
            // From the data itself: with no or one point, uPlot's own extremes are not a span of time.
            range: (self) => {
              const times = self.data[0];
              const max = times.at(-1) ?? Date.now() / 1000;
              return [Math.min(times[0] ?? max, max - props.minSpanS), max];
            },
          },
        },
        series: [
          {},
          ...props.series.map((series) => ({
            label: series.label,
            stroke: series.stroke,
            width: 2,
            ...(series.dash === undefined ? {} : { dash: series.dash }),
            ...(series.points === true ? { points: { show: true, size: 6, fill: series.stroke } } : {}),
          })),
        ],
        axes: [{}, { label: props.yLabel }],
      },
      props.data,
      target,
    );
    const resize = new ResizeObserver(() => chart.current?.setSize({ width: Math.max(280, target.clientWidth), height }));
    resize.observe(target);
    return () => {
      resize.disconnect();
      chart.current?.destroy();
    };
  }, []);
  useEffect(() => chart.current?.setData(props.data), [props.data]);
  return (
    <figure class="chart">
      <figcaption>{props.caption}</figcaption>
      <div ref={element} role="img" aria-label={props.description} />
    </figure>
  );
}
