import { familySuite } from './family-suite.js';

familySuite('abandonware');
