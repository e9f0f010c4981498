import { fusedGradientSuite } from './fused-gradients.suite';

fusedGradientSuite(1, false);
