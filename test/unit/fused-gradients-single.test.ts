import { fusedGradientSuite } from './fused-gradients.suite';

fusedGradientSuite(1);
