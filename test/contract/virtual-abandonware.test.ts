/** The link contract over the virtual radio with @abandonware/noble and @abandonware/bleno. */
import { defineLinkContract } from './suite.js';
import { virtualTransport } from './virtual.js';

defineLinkContract('virtual radio, @abandonware noble + bleno', virtualTransport('abandonware'));
