import type { HeatmapData } from './heat';

/**
 * A heatmap drawn as a table: each cell shows its number on its colour, so the picture and its
 * text form are the same element.
 */
export function Heatmap({ data, testId }: { data: HeatmapData; testId: string }) {
  return (
    <table className="heatmap" data-testid={testId}>
      <caption>{data.caption}</caption>
      <thead>
        <tr>
          <td />
          {data.colLabels.map((l, c) => (
            <th key={c} scope="col" className={data.colState ? `col-${data.colState[c]}` : undefined}>
              {l}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {data.cells.map((row, r) => (
          <tr key={r} className={data.markRow === r ? 'row-marked' : undefined}>
            <th scope="row">{data.rowLabels[r]}</th>
            {row.map((cell, c) => (
              <td
                key={c}
                className={[data.colState ? `col-${data.colState[c]}` : '', cell.dark ? '' : 'light-text', cell.blank ? 'blank' : ''].join(' ').trim() || undefined}
                style={{ background: cell.background }}
                data-value={cell.value}
              >
                {cell.text}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
