import { memo, useEffect, useId, useMemo, useRef, useState } from 'react';
import type { LayerDetail } from '../../core/layer-detail';
import { fmtSci } from '../format';
import { heatmapLabel, heatmapPixels, rampGradient } from './chart-data';
import { DiagChart } from './DiagChart';

/**
 * The layer's Hessian H = (2/N)·XᵀX (mean |H| per cell) on a log colour scale, in the original
 * column order or in act-order, with diag(H) below in the same order. Columns the export padded
 * are not shown.
 */
function HessianHeatmapView({ detail, label }: { detail: LayerDetail; label: string }) {
  const [wantActOrder, setWantActOrder] = useState(false);
  const toggleId = useId();
  const actOrder = wantActOrder && detail.hessianActOrder !== null;
  const grid = actOrder && detail.hessianActOrder ? detail.hessianActOrder : detail.hessian;
  const pixels = useMemo(() => heatmapPixels(grid), [grid]);
  const canvas = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    const el = canvas.current;
    const ctx = el?.getContext('2d');
    if (!el || !ctx || pixels.size === 0) return;
    el.width = pixels.size;
    el.height = pixels.size;
    ctx.putImageData(new ImageData(pixels.rgba, pixels.size, pixels.size), 0, 0);
  }, [pixels]);

  return (
    <figure className="hessian">
      <figcaption>
        <strong>Hessian of {label}</strong>
        <label className="check" htmlFor={toggleId}>
          <input id={toggleId} type="checkbox" checked={actOrder} disabled={detail.hessianActOrder === null}
            data-testid="hessian-act-order" onChange={(e) => setWantActOrder(e.target.checked)} />
          in act-order (the order GPTQ quantized the columns){detail.hessianActOrder === null ? ': the run did not use act-order' : ''}
        </label>
      </figcaption>
      <canvas
        ref={canvas}
        className="heatmap-canvas"
        role="img"
        aria-label={heatmapLabel(label, grid, detail.cols, actOrder, pixels.range)}
        data-testid="hessian-heatmap"
        data-size={pixels.size}
        data-order={actOrder ? 'act-order' : 'original'}
        data-min={pixels.range?.min}
        data-max={pixels.range?.max}
        width={pixels.size}
        height={pixels.size}
      />
      <div className="ramp-legend" aria-hidden="true">
        <span>{pixels.range ? fmtSci(pixels.range.min) : '0'}</span>
        <span className="ramp" style={{ background: rampGradient() }} />
        <span>{pixels.range ? fmtSci(pixels.range.max) : '0'}</span>
      </div>
      <p className="note">
        Mean |H| per cell ({pixels.size}×{pixels.size} cells over {detail.cols} columns), log colour scale from dark
        (small) to yellow (large). Bright rows and columns are inputs that carry more energy: errors there cost more.
        {detail.paddedCols > 0 && ` The ${detail.paddedCols} columns the export padded (always zero) are left out.`}
      </p>
      <DiagChart diag={detail.diag} order={actOrder ? detail.order : null} label={label} />
    </figure>
  );
}

/** Drawn again only when its layer changes, not on every progress event of a run (see LayerChart's LayerLines). */
export const HessianHeatmap = memo(HessianHeatmapView);
