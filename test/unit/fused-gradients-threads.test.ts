import { fusedGradientSuite } from './fused-gradients.suite';

fusedGradientSuite(2, true);
