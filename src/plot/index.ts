// stevens plots: captures and traces turned into a self-contained HTML report or text plots.
export { loadPlotInput, defaultConnection, PlotInputError } from './load.js';
export { plotInputFromCapture } from './from-capture.js';
export { plotInputFromTrace } from './from-trace.js';
export { renderHtml } from './html.js';
export { renderAscii, renderList } from './ascii.js';
export type { ConnectionPlot, PlotInput, Point } from './model.js';
