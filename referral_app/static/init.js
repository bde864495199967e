// Starts the GOV.UK Frontend components on every page (error summary focus,
// character counts, tabs, the service navigation's menu on phones, the
// double-click guard on buttons). A static file: the CSP allows no inline script.
import { initAll } from "./govuk/govuk-frontend.min.js";

initAll();
