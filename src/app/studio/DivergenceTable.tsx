import { useRunPick } from '../store/hooks';
import { fmtSci } from '../format';

const VARIANTS = [{ key: 'rtn', title: 'RTN' }, { key: 'gptq', title: 'GPTQ' }] as const;

/**
 * How far RTN and GPTQ move the model's next-token distributions from the original's on each
 * evaluation text (llama.cpp's --kl-divergence statistics, measured on the GPU during the
 * evaluation): mean KLD with its 99th percentile and maximum, top-1 agreement, RMS Δp.
 */
export function DivergenceTable() {
  const divergence = useRunPick((r) => r.report?.divergence);
  const texts = divergence ? Object.entries(divergence) : [];
  if (texts.length === 0) return null;
  return (
    <>
      <h3>Divergence from the original</h3>
      <div className="table-scroll">
        <table className="facts compact" data-testid="divergence" data-count={texts.length}>
          <caption className="visually-hidden">KL divergence, top-1 agreement and RMS Δp of RTN and GPTQ against the original, per evaluation text</caption>
          <thead>
            <tr>
              <th scope="col">text</th><th scope="col">model</th><th scope="col">mean KLD</th><th scope="col">KLD p99</th><th scope="col">KLD max</th>
              <th scope="col">top-1 agreement</th><th scope="col">RMS Δp</th>
            </tr>
          </thead>
          <tbody>
            {texts.flatMap(([text, d], i) => VARIANTS.map((v) => {
              const s = d[v.key];
              return (
                <tr key={`${text}-${v.key}`} data-testid={`kld-${i}-${v.key}`} data-value={s?.kld_mean ?? ''}>
                  <th scope="row">{text}</th>
                  <td>{v.title}</td>
                  {s ? (
                    <>
                      <td className="num">{fmtSci(s.kld_mean)}</td>
                      <td className="num">{fmtSci(s.kld_p99)}</td>
                      <td className="num">{fmtSci(s.kld_max)}</td>
                      <td className="num">{(100 * s.top1_agree).toFixed(1)}%</td>
                      <td className="num">{(100 * s.dp_rms).toFixed(2)}%</td>
                    </>
                  ) : <td colSpan={5} className="not-measured">not measured</td>}
                </tr>
              );
            }))}
          </tbody>
        </table>
      </div>
      <p className="note">
        KLD: the Kullback–Leibler divergence of the quantized model's next-token distribution from the original's, per
        token (nats). Top-1 agreement: the share of tokens whose most likely next token is the original's. RMS Δp: the
        root mean square change in the probability of the correct next token. Two models with the same perplexity can
        differ here.
      </p>
    </>
  );
}
